# Per-target flags: warnings, sanitizers, language level. Never edits CMAKE_<LANG>_FLAGS.

add_library(edaos_warnings INTERFACE)
target_compile_options(edaos_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wno-unused-parameter>
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wshadow -Wno-unused-parameter>
  $<$<BOOL:${EDAOS_WERROR}>:-Werror>)

add_library(edaos_sanitizers INTERFACE)
if(EDAOS_SANITIZE)
  string(REPLACE ";" "," _edaos_san "${EDAOS_SANITIZE}")
  target_compile_options(edaos_sanitizers INTERFACE -fsanitize=${_edaos_san} -fno-omit-frame-pointer
                                                    -fno-sanitize-recover=undefined)
  target_link_options(edaos_sanitizers INTERFACE -fsanitize=${_edaos_san})
endif()

# edaos_library(<module> SOURCES ...): SHARED edaos_<module> + alias edaos::<module>,
# public headers under <module>/include, C++17, warnings and sanitizers applied.
function(edaos_library module)
  cmake_parse_arguments(A "" "" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  add_library(edaos_${module} SHARED ${A_SOURCES})
  add_library(edaos::${module} ALIAS edaos_${module})
  target_include_directories(edaos_${module}
    PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_compile_features(edaos_${module} PUBLIC cxx_std_17)
  target_link_libraries(edaos_${module} PUBLIC ${A_PUBLIC_LIBS}
                        PRIVATE ${A_PRIVATE_LIBS} $<BUILD_INTERFACE:edaos_warnings>
                                $<BUILD_INTERFACE:edaos_sanitizers>)
  set_target_properties(edaos_${module} PROPERTIES VERSION ${PROJECT_VERSION}
                        SOVERSION ${PROJECT_VERSION_MAJOR} EXPORT_NAME ${module})
  install(TARGETS edaos_${module} EXPORT edaosTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()
