# Test install_consumer (tests/c_api/CMakeLists.txt): installs the build tree into a temporary
# prefix, builds tests/consumer/ against it with find_package(rnnad CONFIG REQUIRED), runs its
# programs, and checks that they and the installed CLI load the installed librnnad.so (ldd), that
# the library has its SONAME and no RPATH into the build tree, and that no installed header or
# package file mentions Eigen or the internal libraries.
# cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DVERSION=x.y.z [-DSANITIZE=...] -P run_test.cmake
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR VERSION)
  if(NOT ${var})
    message(FATAL_ERROR "run_test.cmake: -D${var}=... is required")
  endif()
endforeach()
set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})

# run(<command...>): runs it without LD_LIBRARY_PATH (only RPATHs may find librnnad.so), stops
# the test with its output when it fails, leaves its output in `out`.
function(run)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${command}\n${output}")
  endif()
  set(out "${output}" PARENT_SCOPE)
endfunction()

# expect_installed_lib(<binary>): ldd resolves librnnad.so for <binary> to the installed copy.
function(expect_installed_lib binary)
  run(ldd ${binary})
  if(NOT out MATCHES "librnnad\\.so[^ ]* => ([^ ]+)")
    message(FATAL_ERROR "${binary} does not load librnnad.so:\n${out}")
  endif()
  if(NOT CMAKE_MATCH_1 MATCHES "^${prefix}/")
    message(FATAL_ERROR "${binary} loads ${CMAKE_MATCH_1}, not the installed library under ${prefix}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# The library: SONAME, real file name, no RPATH/RUNPATH into the build tree.
file(GLOB libs ${prefix}/lib*/librnnad.so)
if(NOT libs)
  message(FATAL_ERROR "no librnnad.so under ${prefix}")
endif()
string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _ ${VERSION})
set(soversion ${CMAKE_MATCH_1})
if(CMAKE_MATCH_1 EQUAL 0)
  set(soversion 0.${CMAKE_MATCH_2})
endif()
run(readelf -d ${libs})
if(NOT out MATCHES "SONAME\\)[^\n]*\\[librnnad\\.so\\.${soversion}\\]")
  message(FATAL_ERROR "librnnad.so: SONAME is not librnnad.so.${soversion}:\n${out}")
endif()
if(out MATCHES "${BUILD_DIR}")
  message(FATAL_ERROR "the installed librnnad.so points into the build tree:\n${out}")
endif()
if(NOT EXISTS ${libs}.${VERSION})
  message(FATAL_ERROR "${libs}.${VERSION} is not installed")
endif()

# Public headers include no Eigen, nlohmann, CUDA or internal header; the package files name no
# dependency (the consumer project also checks rnnad::rnnad's INTERFACE_LINK_LIBRARIES).
file(GLOB_RECURSE headers ${prefix}/include/*)
foreach(f IN LISTS headers)
  file(STRINGS ${f} includes REGEX "^[ \t]*#[ \t]*include")
  if(includes MATCHES "[<\"](Eigen|unsupported/|nlohmann|cuda|cublas|rnnad/cpu/|rnnad/cuda/)")
    message(FATAL_ERROR "${f} includes ${CMAKE_MATCH_1}...: ${includes}")
  endif()
endforeach()
file(GLOB_RECURSE package_files ${prefix}/lib*/cmake/*)
foreach(f IN LISTS package_files)
  file(READ ${f} text)
  if(text MATCHES "(Eigen3|rnnad_cpu|rnnad_kernels|nlohmann_json|CUDA::)")
    message(FATAL_ERROR "${f} mentions ${CMAKE_MATCH_1}")
  endif()
endforeach()

# The installed CLI.
run(${prefix}/bin/rnnad --version)
if(NOT out MATCHES "rnnad ${VERSION}")
  message(FATAL_ERROR "rnnad --version printed '${out}', expected 'rnnad ${VERSION}'")
endif()
expect_installed_lib(${prefix}/bin/rnnad)

# The consumer project, built with the sanitizers of the build (an instrumented librnnad.so needs
# an instrumented program) and nothing else of it.
set(flags)
if(SANITIZE)
  set(flags "-fsanitize=${SANITIZE} -fno-omit-frame-pointer")
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS=${flags}"
    "-DCMAKE_CXX_FLAGS=${flags}" "-DCMAKE_EXE_LINKER_FLAGS=${flags}" -DRNNAD_C_EXAMPLE_DIR=${SOURCE_DIR}/tests/c_api)
if(NOT out MATCHES "rnnad ${VERSION} from ${prefix}/")
  message(FATAL_ERROR "find_package(rnnad) did not find the installed package:\n${out}")
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)

expect_installed_lib(${WORK_DIR}/build/rnnad_consumer)
expect_installed_lib(${WORK_DIR}/build/rnnad_c_example)
run(${WORK_DIR}/build/rnnad_consumer ${SOURCE_DIR}/models/nab_machine_temp.safetensors
    ${SOURCE_DIR}/models/nab_machine_temp.reference.safetensors)
message(STATUS "rnnad_consumer:\n${out}")
expect_installed_lib(${WORK_DIR}/build/rnnad_service)
run(${WORK_DIR}/build/rnnad_service ${SOURCE_DIR}/models/nab_machine_temp.safetensors
    ${SOURCE_DIR}/models/nab_machine_temp.reference.safetensors)
message(STATUS "rnnad_service:\n${out}")
# The C example (22,695 rows and three streams) takes about 3 s, but 90 s under ASan+UBSan, where
# the c_api_example test already runs it against the build tree: it is built and linked here, and
# run only without sanitizers.
if(NOT SANITIZE)
  run(${WORK_DIR}/build/rnnad_c_example ${SOURCE_DIR}/models/nab_machine_temp.safetensors
      ${SOURCE_DIR}/models/data/machine_temperature_system_failure.csv
      ${SOURCE_DIR}/models/nab_machine_temp.reference.safetensors ${WORK_DIR})
  message(STATUS "rnnad_c_example:\n${out}")
endif()
