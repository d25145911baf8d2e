# Helpers shared by every folder's CMakeLists.

# tt_add_unit_test(NAME <name> SOURCES <files...> [LIBS <targets...>] [TIMEOUT s])
# One executable made of self-registering TT_TEST()s (tests/harness), one ctest entry.
function(tt_add_unit_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT BUILD_TESTING)
    return()
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE tt_test_harness ${T_LIBS})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT})
endfunction()

# tt_add_py_test(NAME <name> SCRIPT <file.py> [TIMEOUT s] [ENV k=v...])
# Integration tests that start real programs are Python (stdlib only) scripts.
function(tt_add_py_test)
  cmake_parse_arguments(T "" "NAME;SCRIPT;TIMEOUT" "ENV" ${ARGN})
  if(NOT BUILD_TESTING)
    return()
  endif()
  find_package(Python3 COMPONENTS Interpreter REQUIRED)
  add_test(NAME ${T_NAME} COMMAND ${Python3_EXECUTABLE} ${T_SCRIPT})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(env "TT_BUILD_DIR=${CMAKE_BINARY_DIR}" "TT_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
      "TT_SHARED_DIR=${TT_SHARED_DIR}" "PYTHONDONTWRITEBYTECODE=1" ${T_ENV})
  get_filename_component(folder ${CMAKE_CURRENT_SOURCE_DIR} NAME)
  if(TT_SANITIZE)
    # Tests that measure a rate (not a speed: that is the benchmarks' job) scale their load
    # down under sanitizers, where every malloc costs tens of times more.
    list(APPEND env "TT_SANITIZED=${TT_SANITIZE}")
  endif()
  if(TT_SANITIZE AND DEFINED TT_PY_TEST_SANITIZER_ENV_${folder})
    list(APPEND env ${TT_PY_TEST_SANITIZER_ENV_${folder}})
  endif()
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${env}")
endfunction()

# tt_isa_sources(<target> <flags> <files...>): ISA flags on these files only, never the
# whole target, so the compiler cannot emit e.g. AVX2 before run-time dispatch has run.
function(tt_isa_sources target flags)
  target_sources(${target} PRIVATE ${ARGN})
  set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "${flags}")
endfunction()

# tt_register_gateway(<c-symbol-of-descriptor> <library-target>)
# Appends a gateway to the static table the tutti binary is linked with.
function(tt_register_gateway sym lib)
  set_property(GLOBAL APPEND PROPERTY TT_GATEWAY_SYMBOLS ${sym})
  set_property(GLOBAL APPEND PROPERTY TT_GATEWAY_LIBS ${lib})
endfunction()

# tt_add_bench(NAME <name> SOURCES <files...> [LIBS <targets...>] [ARGS <args...>])
# A benchmark executable; `cmake --build build --target bench` builds and runs them all.
# Benchmarks are never ctest tests: these machines are shared and noisy.
function(tt_add_bench)
  cmake_parse_arguments(B "" "NAME" "SOURCES;LIBS;ARGS" ${ARGN})
  if(NOT TT_BENCH)
    return()
  endif()
  add_executable(${B_NAME} ${B_SOURCES})
  target_link_libraries(${B_NAME} PRIVATE ${B_LIBS})
  add_custom_target(run_${B_NAME} COMMAND ${B_NAME} ${B_ARGS} USES_TERMINAL
                    WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
  add_dependencies(bench run_${B_NAME})
endfunction()

# tt_add_fuzz(NAME <name> SOURCES <files...> [LIBS <targets...>] CORPUS <dir>)
# A fuzz target defines LLVMFuzzerTestOneInput(). Always built with a standalone driver that
# replays the committed corpus (a ctest, any compiler); with clang and TT_FUZZ=ON also a
# libFuzzer binary <name>_libfuzzer for real fuzzing.
function(tt_add_fuzz)
  cmake_parse_arguments(F "" "NAME;CORPUS" "SOURCES;LIBS" ${ARGN})
  if(NOT BUILD_TESTING)
    return()
  endif()
  add_executable(${F_NAME} ${F_SOURCES} ${CMAKE_SOURCE_DIR}/tests/fuzz/standalone.c)
  target_link_libraries(${F_NAME} PRIVATE ${F_LIBS})
  add_test(NAME ${F_NAME}_corpus COMMAND ${F_NAME} ${F_CORPUS})
  set_tests_properties(${F_NAME}_corpus PROPERTIES TIMEOUT 300)
  if(TT_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
    add_executable(${F_NAME}_libfuzzer ${F_SOURCES})
    target_compile_options(${F_NAME}_libfuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${F_NAME}_libfuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${F_NAME}_libfuzzer PRIVATE ${F_LIBS})
  endif()
endfunction()

# Add every immediate subfolder of the current folder that has a CMakeLists.txt, so that
# parallel work adds folders without editing a shared list.
macro(tt_add_all_subdirectories)
  file(GLOB _tt_children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}
       ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT _tt_children)
  foreach(_c ${_tt_children})
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${_c} AND
       EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${_c}/CMakeLists.txt)
      add_subdirectory(${_c})
    endif()
  endforeach()
endmacro()

# tt_link_bridge(<executable> <libs...>): link a bridge binary. libnice and sofia-sip both
# export `stun_message_length` with different signatures; whichever is loaded first wins the
# symbol for both, and with sofia first libnice's ICE checks call sofia's function and ICE
# never completes. So libnice comes first in the executable's DT_NEEDED order (sofia's STUN
# code is unused: the SIP gateway does not enable STUN). integration_webrtc_ice fails if this
# order is lost.
function(tt_link_bridge exe)
  if(TARGET PkgConfig::NICE)
    # a raw linker option: CMake neither moves nor deduplicates it, and link options come
    # before every library on the command line
    target_link_options(${exe} PRIVATE "-Wl,--no-as-needed,-lnice")
  endif()
  target_link_libraries(${exe} PRIVATE ${ARGN})
endfunction()
