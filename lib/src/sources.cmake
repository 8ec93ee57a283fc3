list(APPEND THOR_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/yaml_util.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gnuplot.cpp
  ${CMAKE_CURRENT_LIST_DIR}/io.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cluster.cpp
  ${CMAKE_CURRENT_LIST_DIR}/architecture.cpp
  ${CMAKE_CURRENT_LIST_DIR}/architecture_yaml.cpp
  ${CMAKE_CURRENT_LIST_DIR}/block_rules.cpp
  ${CMAKE_CURRENT_LIST_DIR}/layer_kind.cpp
  ${CMAKE_CURRENT_LIST_DIR}/protocol.cpp
  ${CMAKE_CURRENT_LIST_DIR}/recipe.cpp
  ${CMAKE_CURRENT_LIST_DIR}/run_log.cpp
  ${CMAKE_CURRENT_LIST_DIR}/torch_model.cpp
  ${CMAKE_CURRENT_LIST_DIR}/torch_blocks.cpp
  ${CMAKE_CURRENT_LIST_DIR}/torchscript.cpp
  ${CMAKE_CURRENT_LIST_DIR}/torchscript_export_blocks.cpp
  ${CMAKE_CURRENT_LIST_DIR}/torchscript_import.cpp)
