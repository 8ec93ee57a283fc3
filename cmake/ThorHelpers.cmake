# thor_cxx17(<target>...): C++17 as a compile feature. On a library it is a usage
# requirement (PUBLIC, INTERFACE for interface libraries), so targets that link
# it, the exported package's consumers included, compile as C++17 too.
function(thor_cxx17)
  foreach(t IN LISTS ARGN)
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "EXECUTABLE")
      target_compile_features(${t} PRIVATE cxx_std_17)
    elseif(type STREQUAL "INTERFACE_LIBRARY")
      target_compile_features(${t} INTERFACE cxx_std_17)
    else()
      target_compile_features(${t} PUBLIC cxx_std_17)
    endif()
  endforeach()
endfunction()

# thor_add_program(NAME <name> SOURCES ... LIBS ...): a program in build/bin, installed.
# Programs that parse options with thor/cli.hpp list thor_cli in LIBS.
function(thor_add_program)
  cmake_parse_arguments(P "" "NAME" "SOURCES;LIBS" ${ARGN})
  add_executable(${P_NAME} ${P_SOURCES})
  target_link_libraries(${P_NAME} PRIVATE ${P_LIBS})
  thor_cxx17(${P_NAME})
  install(TARGETS ${P_NAME} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endfunction()

# thor_add_test(NAME <name> SOURCES ... LIBS ... [LABELS ...]): a doctest suite run by CTest.
function(thor_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE thor_doctest_main ${T_LIBS})
  thor_cxx17(${T_NAME})
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${T_NAME} PROPERTIES
    ENVIRONMENT "THOR_SOURCE_DIR=${PROJECT_SOURCE_DIR};THOR_BINARY_DIR=${PROJECT_BINARY_DIR}"
    LABELS "${T_LABELS}")
endfunction()

# thor_add_cli_test(NAME <name> CODE <exit> COMMAND ... [MATCH regex] [ABSENT path] [ENV K=V...]):
# runs a program and checks its exit code and output (tests/cli/expect.cmake).
function(thor_add_cli_test)
  cmake_parse_arguments(C "" "NAME;CODE;MATCH;NOMATCH;ABSENT" "COMMAND;ENV" ${ARGN})
  string(REPLACE ";" "\\;" cmd_escaped "${C_COMMAND}")
  set(args "-DCMD=${cmd_escaped}" -DCODE=${C_CODE})
  if(C_MATCH)
    list(APPEND args "-DMATCH=${C_MATCH}")
  endif()
  if(C_NOMATCH)
    list(APPEND args "-DNOMATCH=${C_NOMATCH}")
  endif()
  if(C_ABSENT)
    list(APPEND args "-DABSENT=${C_ABSENT}")
  endif()
  if(C_ENV)
    string(REPLACE ";" "\\;" env_escaped "${C_ENV}")
    list(APPEND args "-DENV_VARS=${env_escaped}")
  endif()
  add_test(NAME ${C_NAME} COMMAND ${CMAKE_COMMAND} ${args} -P ${PROJECT_SOURCE_DIR}/tests/cli/expect.cmake
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()
