# ONNX Runtime for Node (npm's onnxruntime-node, locked by tools/ort/package-lock.json), installed
# once into ${PROJECT_BINARY_DIR}/ort for both of its users: the export tests of tests/onnx/
# (test_onnx_export_runtime) and the benchmarks' ONNX Runtime side (tools/ort/throughput.js,
# bench/compare_engines.py). npm ci installs exactly the locked version, with --ignore-scripts: the
# postinstall fetches GPU libraries from a host outside npm; the Linux x64 CPU library is inside the
# package. The stamp is the package's own package.json.
#
# Defines, when Debian's node and npm are found: MINICNN_NODE, MINICNN_ORT_MODULES (the
# node_modules folder, for NODE_PATH) and the target minicnn_onnxruntime_node, which a program or
# test that needs the package depends on.
find_program(MINICNN_NODE node)
find_program(MINICNN_NPM npm)
if(MINICNN_NODE AND MINICNN_NPM)
  set(ort_dir ${PROJECT_BINARY_DIR}/ort)
  set(ort_tools ${PROJECT_SOURCE_DIR}/tools/ort)
  set(MINICNN_ORT_MODULES ${ort_dir}/node_modules)
  add_custom_command(
    OUTPUT ${ort_dir}/node_modules/onnxruntime-node/package.json
    COMMAND ${CMAKE_COMMAND} -E make_directory ${ort_dir}
    COMMAND ${CMAKE_COMMAND} -E copy ${ort_tools}/package.json ${ort_tools}/package-lock.json
            ${ort_dir}
    COMMAND ${MINICNN_NPM} ci --ignore-scripts --no-audit --no-fund --prefix ${ort_dir}
    DEPENDS ${ort_tools}/package.json ${ort_tools}/package-lock.json
    COMMENT "Installing onnxruntime-node (npm ci --ignore-scripts) into ${ort_dir}")
  add_custom_target(minicnn_onnxruntime_node
                    DEPENDS ${ort_dir}/node_modules/onnxruntime-node/package.json)
  unset(ort_dir)
  unset(ort_tools)
endif()
