# Runs one program and checks its exit code and output.
#   cmake -DCMD="prog;arg;..." -DCODE=2 [-DMATCH=regex] [-DNOMATCH=regex] [-DENV="K=V;..."]
#         [-DABSENT=path] -P expect.cmake
# MATCH is searched in stdout+stderr. ABSENT names a path that must not exist
# afterwards (no half-written output).
if(DEFINED ENV_VARS)
  foreach(kv IN LISTS ENV_VARS)
    string(REGEX MATCH "^([^=]+)=(.*)$" _ "${kv}")
    set(ENV{${CMAKE_MATCH_1}} "${CMAKE_MATCH_2}")
  endforeach()
endif()
execute_process(COMMAND ${CMD} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(NOT "${rc}" STREQUAL "${CODE}")
  message(FATAL_ERROR "expected exit code ${CODE}, got ${rc}\n--- output ---\n${all}")
endif()
if(DEFINED MATCH AND NOT all MATCHES "${MATCH}")
  message(FATAL_ERROR "output does not match '${MATCH}'\n--- output ---\n${all}")
endif()
if(DEFINED NOMATCH AND all MATCHES "${NOMATCH}")
  message(FATAL_ERROR "output unexpectedly matches '${NOMATCH}'\n--- output ---\n${all}")
endif()
if(DEFINED ABSENT AND EXISTS "${ABSENT}")
  message(FATAL_ERROR "'${ABSENT}' exists but the run failed: half-written output left behind")
endif()
message(STATUS "ok: exit ${rc}")
