list(APPEND THOR_METERS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/registry.cpp)
list(APPEND THOR_METERS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/sysfs.cpp)
list(APPEND THOR_METERS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/sampler.cpp)
list(APPEND THOR_METERS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/rapl.cpp)
list(APPEND THOR_METERS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/nvml.cpp)
list(APPEND THOR_METERS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/jetson.cpp)
list(APPEND THOR_METERS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/battery.cpp)
list(APPEND THOR_METERS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/cpu_model.cpp)
list(APPEND THOR_METERS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/../format.cpp)  # thor/format.hpp, in the lowest library
list(APPEND THOR_METERS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/../progress.cpp)  # thor/progress.hpp, used by every program
list(APPEND THOR_METERS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/../interrupt.cpp)  # thor/interrupt.hpp: Ctrl-C ends jobs cleanly
list(APPEND THOR_METERS_SOURCES ${CMAKE_CURRENT_LIST_DIR}/../dry_run.cpp)  # thor/dry_run.hpp
