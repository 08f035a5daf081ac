// dallebot's CPU kernels, one Python extension (generation._kernels, built by setup.py): importing
// it registers the operators below under torch.ops.dallebot; the module itself has no functions.
// The kernels are in int8_gemv.cpp and decode_attention.cpp; generation/kernels.py is their door.
#include <Python.h>

#include <torch/library.h>

TORCH_LIBRARY(dallebot, m) {
  m.def("int8_gemv(Tensor x, Tensor blocked, Tensor scale, bool wide=True) -> Tensor");
  m.def(
      "decode_attention(Tensor q, Tensor k, Tensor v, Tensor bias, Tensor? lengths=None, bool wide=True) -> Tensor");
}

static PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", nullptr, -1, nullptr};
PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
