# thor::gp — Gaussian Process regression on Eigen (no LibTorch). Owned by the GP work (issue 3).
add_library(thor_gp
  ${CMAKE_CURRENT_LIST_DIR}/src/gp/acquisition.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/gp/cholesky.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/gp/gp.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/gp/fit.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/gp/predict.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/gp/options.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/gp/gp_json.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/gp/kernel.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/gp/lml.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/gp/mean.cpp)
add_library(thor::gp ALIAS thor_gp)
set_target_properties(thor_gp PROPERTIES EXPORT_NAME gp)
target_compile_features(thor_gp PUBLIC cxx_std_17)
target_include_directories(thor_gp
  PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_LIST_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/lib/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
  PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/src/gp)
# LBFGSpp is header-only and used only inside the library's sources (<LBFGSB.h>, which
# includes "LBFGSpp/Param.h"; THOR_LBFGSPP_INCLUDE_DIR is the folder holding LBFGSpp/).
target_include_directories(thor_gp SYSTEM PRIVATE ${THOR_LBFGSPP_INCLUDE_DIR})
# Lets the hot loops (kernel profiles, exp, sqrt) vectorise; neither flag changes results.
target_compile_options(thor_gp PRIVATE $<$<CXX_COMPILER_ID:GNU,Clang>:-fno-math-errno -fno-trapping-math>)
target_link_libraries(thor_gp PUBLIC Eigen3::Eigen TBB::tbb nlohmann_json::nlohmann_json)
install(TARGETS thor_gp EXPORT thorTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${CMAKE_CURRENT_LIST_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
