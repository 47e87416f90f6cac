// RUN: slmc-opt --split-input-file --slm-fuse-qdq %s | FileCheck %s

// Conv between DequantizeLinear and QuantizeLinear, per-channel weight scales, a float bias
// quantized to int32 with scale x_scale * w_scale (0.5 / (0.5*0.25) = 4, -0.25 / (0.5*0.5) = -1),
// and a Relu the uint8 clamp at zero point 0 already implies.
// CHECK-LABEL: func @qdq_conv_relu
// CHECK-DAG: %[[B:.*]] = slm.constant dense<[4, -1]> : tensor<2xi32>
// CHECK: %[[Y:.*]] = "slm.QLinearConv"(%arg0, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[B]]) <{kernel_shape = [1, 1], pads = [0, 0, 0, 0]}> {slm.node = "c_q", slm.opset = 13 : i64, slm.outputs = ["y"]}
// CHECK-NOT: slm.Conv
// CHECK-NOT: slm.Relu
// CHECK-NOT: slm.DequantizeLinear
// CHECK: return %[[Y]]
func.func @qdq_conv_relu(%x: tensor<1x1x4x4xui8>) -> tensor<1x2x4x4xui8> {
  %xs = slm.constant dense<0.5> : tensor<f32> : tensor<f32>
  %xz = slm.constant dense<128> : tensor<ui8> : tensor<ui8>
  %wq = slm.constant dense<[[[[3]]], [[[-5]]]]> : tensor<2x1x1x1xi8> : tensor<2x1x1x1xi8>
  %ws = slm.constant dense<[0.25, 0.5]> : tensor<2xf32> : tensor<2xf32>
  %wz = slm.constant dense<0> : tensor<2xi8> : tensor<2xi8>
  %b = slm.constant dense<[0.5, -0.25]> : tensor<2xf32> : tensor<2xf32>
  %ys = slm.constant dense<0.1> : tensor<f32> : tensor<f32>
  %yz = slm.constant dense<0> : tensor<ui8> : tensor<ui8>
  %dx = "slm.DequantizeLinear"(%x, %xs, %xz) : (tensor<1x1x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x1x4x4xf32>
  %dw = "slm.DequantizeLinear"(%wq, %ws, %wz) {axis = 0 : i64} : (tensor<2x1x1x1xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x1x1x1xf32>
  %c = "slm.Conv"(%dx, %dw, %b) {kernel_shape = [1, 1], pads = [0, 0, 0, 0], slm.opset = 13 : i64, slm.node = "c"} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %r = "slm.Relu"(%c) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = "slm.QuantizeLinear"(%r, %ys, %yz) {slm.node = "c_q", slm.outputs = ["y"]} : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xui8>
  return %y : tensor<1x2x4x4xui8>
}

// -----

// An int32 bias behind DequantizeLinear with scale x_scale * w_scale is used as is.
// CHECK-LABEL: func @qdq_conv_int32_bias
// CHECK: %[[BQ:.*]] = slm.constant dense<[7, -7]> : tensor<2xi32>
// CHECK: "slm.QLinearConv"({{.*}}, %[[BQ]])
// CHECK-NOT: slm.Conv
func.func @qdq_conv_int32_bias(%x: tensor<1x1x4x4xi8>) -> tensor<1x2x4x4xi8> {
  %xs = slm.constant dense<0.5> : tensor<f32> : tensor<f32>
  %xz = slm.constant dense<0> : tensor<i8> : tensor<i8>
  %wq = slm.constant dense<1> : tensor<2x1x1x1xi8> : tensor<2x1x1x1xi8>
  %ws = slm.constant dense<0.25> : tensor<f32> : tensor<f32>
  %bq = slm.constant dense<[7, -7]> : tensor<2xi32> : tensor<2xi32>
  %bs = slm.constant dense<0.125> : tensor<f32> : tensor<f32>
  %ys = slm.constant dense<0.1> : tensor<f32> : tensor<f32>
  %dx = "slm.DequantizeLinear"(%x, %xs, %xz) : (tensor<1x1x4x4xi8>, tensor<f32>, tensor<i8>) -> tensor<1x1x4x4xf32>
  %dw = "slm.DequantizeLinear"(%wq, %ws) : (tensor<2x1x1x1xi8>, tensor<f32>) -> tensor<2x1x1x1xf32>
  %db = "slm.DequantizeLinear"(%bq, %bs) : (tensor<2xi32>, tensor<f32>) -> tensor<2xf32>
  %c = "slm.Conv"(%dx, %dw, %db) {kernel_shape = [1, 1]} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %y = "slm.QuantizeLinear"(%c, %ys, %xz) : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<i8>) -> tensor<1x2x4x4xi8>
  return %y : tensor<1x2x4x4xi8>
}

// -----

// MatMul between DequantizeLinear and QuantizeLinear, per-column weight scales; the activation
// DequantizeLinear also feeds a second MatMul, which gets its own QLinearMatMul.
// CHECK-LABEL: func @qdq_matmul_shared_input
// CHECK: %[[Y0:.*]] = "slm.QLinearMatMul"(%arg0, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) {slm.opset = 13 : i64}
// CHECK: %[[Y1:.*]] = "slm.QLinearMatMul"(%arg0,
// CHECK-NOT: slm.MatMul
// CHECK-NOT: slm.DequantizeLinear
// CHECK: return %[[Y0]], %[[Y1]]
func.func @qdq_matmul_shared_input(%a: tensor<2x4xui8>) -> (tensor<2x3xui8>, tensor<2x3xui8>) {
  %as = slm.constant dense<0.05> : tensor<f32> : tensor<f32>
  %az = slm.constant dense<10> : tensor<ui8> : tensor<ui8>
  %bq = slm.constant dense<2> : tensor<4x3xi8> : tensor<4x3xi8>
  %bs = slm.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32> : tensor<3xf32>
  %bz = slm.constant dense<0> : tensor<3xi8> : tensor<3xi8>
  %ys = slm.constant dense<0.2> : tensor<f32> : tensor<f32>
  %yz = slm.constant dense<128> : tensor<ui8> : tensor<ui8>
  %da = "slm.DequantizeLinear"(%a, %as, %az) : (tensor<2x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x4xf32>
  %db = "slm.DequantizeLinear"(%bq, %bs, %bz) {axis = 1 : i64} : (tensor<4x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<4x3xf32>
  %m0 = "slm.MatMul"(%da, %db) {slm.opset = 13 : i64} : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %m1 = "slm.MatMul"(%da, %db) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %y0 = "slm.QuantizeLinear"(%m0, %ys, %yz) : (tensor<2x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
  %y1 = "slm.QuantizeLinear"(%m1, %ys, %yz) : (tensor<2x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
  return %y0, %y1 : tensor<2x3xui8>, tensor<2x3xui8>
}

// -----

// MaxPool of a DequantizeLinear output pools the integers, so the Conv after it still reads a
// DequantizeLinear and becomes QLinearConv.
// CHECK-LABEL: func @qdq_maxpool_conv
// CHECK: %[[P:.*]] = "slm.MaxPool"(%arg0) <{kernel_shape = [2, 2], strides = [2, 2]}> : (tensor<1x1x4x4xui8>) -> tensor<1x1x2x2xui8>
// CHECK: "slm.QLinearConv"(%[[P]],
// CHECK-NOT: slm.Conv
func.func @qdq_maxpool_conv(%x: tensor<1x1x4x4xui8>) -> tensor<1x2x2x2xui8> {
  %xs = slm.constant dense<0.5> : tensor<f32> : tensor<f32>
  %xz = slm.constant dense<0> : tensor<ui8> : tensor<ui8>
  %wq = slm.constant dense<1> : tensor<2x1x1x1xi8> : tensor<2x1x1x1xi8>
  %ws = slm.constant dense<0.25> : tensor<f32> : tensor<f32>
  %ys = slm.constant dense<0.1> : tensor<f32> : tensor<f32>
  %dx = "slm.DequantizeLinear"(%x, %xs, %xz) : (tensor<1x1x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x1x4x4xf32>
  %p = "slm.MaxPool"(%dx) {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  %dw = "slm.DequantizeLinear"(%wq, %ws) : (tensor<2x1x1x1xi8>, tensor<f32>) -> tensor<2x1x1x1xf32>
  %c = "slm.Conv"(%p, %dw) {kernel_shape = [1, 1]} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %y = "slm.QuantizeLinear"(%c, %ys, %xz) : (tensor<1x2x2x2xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x2x2xui8>
  return %y : tensor<1x2x2x2xui8>
}

// -----

// Near miss: a bias Add between MatMul and QuantizeLinear.
// CHECK-LABEL: func @qdq_matmul_bias_add
// CHECK: "slm.MatMul"
// CHECK: "slm.Add"
// CHECK-NOT: slm.QLinearMatMul
func.func @qdq_matmul_bias_add(%a: tensor<2x4xui8>) -> tensor<2x3xui8> {
  %s = slm.constant dense<0.05> : tensor<f32> : tensor<f32>
  %z = slm.constant dense<0> : tensor<ui8> : tensor<ui8>
  %bq = slm.constant dense<2> : tensor<4x3xi8> : tensor<4x3xi8>
  %bias = slm.constant dense<0.5> : tensor<3xf32> : tensor<3xf32>
  %da = "slm.DequantizeLinear"(%a, %s, %z) : (tensor<2x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x4xf32>
  %db = "slm.DequantizeLinear"(%bq, %s) : (tensor<4x3xi8>, tensor<f32>) -> tensor<4x3xf32>
  %m = "slm.MatMul"(%da, %db) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %ad = "slm.Add"(%m, %bias) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %y = "slm.QuantizeLinear"(%ad, %s, %z) : (tensor<2x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
  return %y : tensor<2x3xui8>
}

// -----

// Near miss: the activation scale is a run-time input.
// CHECK-LABEL: func @qdq_matmul_runtime_scale
// CHECK: "slm.MatMul"
// CHECK-NOT: slm.QLinearMatMul
func.func @qdq_matmul_runtime_scale(%a: tensor<2x4xui8>, %as: tensor<f32>) -> tensor<2x3xui8> {
  %s = slm.constant dense<0.05> : tensor<f32> : tensor<f32>
  %z = slm.constant dense<0> : tensor<ui8> : tensor<ui8>
  %bq = slm.constant dense<2> : tensor<4x3xi8> : tensor<4x3xi8>
  %da = "slm.DequantizeLinear"(%a, %as, %z) : (tensor<2x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x4xf32>
  %db = "slm.DequantizeLinear"(%bq, %s) : (tensor<4x3xi8>, tensor<f32>) -> tensor<4x3xf32>
  %m = "slm.MatMul"(%da, %db) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %y = "slm.QuantizeLinear"(%m, %s, %z) : (tensor<2x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
  return %y : tensor<2x3xui8>
}

// -----

// Near miss: the float Conv output is also returned, so the QDQ island is not closed.
// CHECK-LABEL: func @qdq_conv_extra_consumer
// CHECK: "slm.Conv"
// CHECK: "slm.QuantizeLinear"
// CHECK-NOT: slm.QLinearConv
func.func @qdq_conv_extra_consumer(%x: tensor<1x1x4x4xui8>) -> (tensor<1x2x4x4xui8>, tensor<1x2x4x4xf32>) {
  %s = slm.constant dense<0.5> : tensor<f32> : tensor<f32>
  %z = slm.constant dense<0> : tensor<ui8> : tensor<ui8>
  %wq = slm.constant dense<1> : tensor<2x1x1x1xi8> : tensor<2x1x1x1xi8>
  %dx = "slm.DequantizeLinear"(%x, %s, %z) : (tensor<1x1x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x1x4x4xf32>
  %dw = "slm.DequantizeLinear"(%wq, %s) : (tensor<2x1x1x1xi8>, tensor<f32>) -> tensor<2x1x1x1xf32>
  %c = "slm.Conv"(%dx, %dw) {kernel_shape = [1, 1]} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %y = "slm.QuantizeLinear"(%c, %s, %z) : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xui8>
  return %y, %c : tensor<1x2x4x4xui8>, tensor<1x2x4x4xf32>
}

// -----

// Near miss: Relu before an int8 QuantizeLinear with zero point 0 clips at 0, not at -128;
// dropping it would change the result.
// CHECK-LABEL: func @qdq_conv_relu_int8_zero
// CHECK: "slm.Conv"
// CHECK: "slm.Relu"
// CHECK-NOT: slm.QLinearConv
func.func @qdq_conv_relu_int8_zero(%x: tensor<1x1x4x4xi8>) -> tensor<1x2x4x4xi8> {
  %s = slm.constant dense<0.5> : tensor<f32> : tensor<f32>
  %z = slm.constant dense<0> : tensor<i8> : tensor<i8>
  %wq = slm.constant dense<1> : tensor<2x1x1x1xi8> : tensor<2x1x1x1xi8>
  %dx = "slm.DequantizeLinear"(%x, %s, %z) : (tensor<1x1x4x4xi8>, tensor<f32>, tensor<i8>) -> tensor<1x1x4x4xf32>
  %dw = "slm.DequantizeLinear"(%wq, %s) : (tensor<2x1x1x1xi8>, tensor<f32>) -> tensor<2x1x1x1xf32>
  %c = "slm.Conv"(%dx, %dw) {kernel_shape = [1, 1]} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %r = "slm.Relu"(%c) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = "slm.QuantizeLinear"(%r, %s, %z) : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<i8>) -> tensor<1x2x4x4xi8>
  return %y : tensor<1x2x4x4xi8>
}
