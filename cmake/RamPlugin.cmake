# ram_add_plugin(KIND <dataset|model|objective|judge> NAME <name> SOURCES <files...>
#                [LIBRARIES <extra libs...>])
# Builds MODULE library ram_<kind>_<name> (file libram_<kind>_<name>.so) into
# <build>/lib/ram/plugins and installs it into <prefix>/lib/ram/plugins. A plugin links
# ram::api (and LibTorch through it) only; symbols are hidden except the descriptor alias.
function(ram_add_plugin)
  cmake_parse_arguments(P "" "KIND;NAME" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT P_KIND MATCHES "^(dataset|model|objective|judge)$")
    message(FATAL_ERROR "ram_add_plugin: KIND must be dataset, model, objective or judge (got '${P_KIND}')")
  endif()
  if(NOT P_NAME MATCHES "^[a-z0-9_]+$")
    message(FATAL_ERROR "ram_add_plugin: NAME '${P_NAME}' must match [a-z0-9_]+")
  endif()
  set(target ram_${P_KIND}_${P_NAME})
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE ram::api ${P_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    LIBRARY_OUTPUT_DIRECTORY ${RAM_PLUGIN_BUILD_DIR}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(COMMAND ram_plugin_post_hook)
    ram_plugin_post_hook(${target})
  endif()
  if(NOT RAM_PLUGIN_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/ram/plugins)
  endif()
endfunction()
