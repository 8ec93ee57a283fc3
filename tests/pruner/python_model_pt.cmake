# Runs prune on tests/pruner/python_fashion.yaml, then checks in Python
# PyTorch that model.pt loads and gives the accuracy report.json states.
#   cmake -DPRUNE=... -DPYTHON=... -DSOURCE=... -DWORK=... -P python_model_pt.cmake
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${PRUNE} --recipe ${SOURCE}/tests/pruner/python_fashion.yaml --output ${WORK}/out --quiet
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "prune failed (${rc}):\n${out}${err}")
endif()
execute_process(COMMAND ${PYTHON} ${SOURCE}/tests/pruner/check_model_pt.py ${WORK}/out /usr/share/datasets/fashion-mnist 500
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "Python check failed (${rc}):\n${out}${err}")
endif()
message(STATUS "${out}")
