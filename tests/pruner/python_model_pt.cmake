# Runs prune on a recipe (default tests/pruner/python_fashion.yaml), then
# checks in Python PyTorch that model.pt loads and gives the accuracy
# report.json states. LAYOUT=sequence feeds images as 28 rows of 28 features.
#   cmake -DPRUNE=... -DPYTHON=... -DSOURCE=... -DWORK=... [-DRECIPE=...] [-DLAYOUT=...] -P python_model_pt.cmake
if(NOT RECIPE)
  set(RECIPE ${SOURCE}/tests/pruner/python_fashion.yaml)
endif()
if(NOT LAYOUT)
  set(LAYOUT image)
endif()
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${PRUNE} --recipe ${RECIPE} --output ${WORK}/out --quiet
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "prune failed (${rc}):\n${out}${err}")
endif()
execute_process(COMMAND ${PYTHON} ${SOURCE}/tests/pruner/check_model_pt.py ${WORK}/out /usr/share/datasets/fashion-mnist 500 ${LAYOUT}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "Python check failed (${rc}):\n${out}${err}")
endif()
message(STATUS "${out}")
