"""The one compiled part of dallebot: generation/csrc, CPU kernels for the decode step (weight-only
int8 products, attention for one new query), built at install time against the pinned torch
(pyproject.toml's build requirements).

Everything else is declared in pyproject.toml. The extension is optional: without a C++ compiler,
or on another architecture, the install goes on and the step uses PyTorch's own kernels (the
bench prints the weight format that runs: int8-blocked is ours)."""

import platform
import sys

from setuptools import Extension, setup


def extensions() -> tuple[list[Extension], dict[str, type]]:
    """The kernels where they can run (x86-64 with GCC or Clang), else nothing."""
    if sys.platform == "win32" or platform.machine().lower() not in ("x86_64", "amd64"):
        return [], {}
    from torch.utils.cpp_extension import BuildExtension, CppExtension

    class OptionalBuild(BuildExtension):
        """torch's build raises RuntimeError when the compiler fails, which setuptools' `optional`
        does not catch: any failure leaves the kernels out and the install goes on."""

        def build_extension(self, ext: Extension) -> None:
            try:
                super().build_extension(ext)
            except Exception as exc:  # a missing compiler, headers, flags: all leave the kernels out
                self.warn(f"dallebot's CPU kernels were not built ({exc}); PyTorch's kernels will run")

    kernels = CppExtension(
        "generation._kernels",
        [f"generation/csrc/{name}.cpp" for name in ("module", "int8_gemv", "decode_attention")],
        # the ISA is chosen at run time (AVX512 or AVX2, per function), not by -march: the
        # library runs on any x86-64 CPU that has AVX2 and FMA
        extra_compile_args=["-O3", "-fopenmp"],
        extra_link_args=["-fopenmp"],  # torch's parallel_for is OpenMP; its libgomp is shared
        optional=True,  # with the catch above: setuptools then skips copying the missing library
    )
    return [kernels], {"build_ext": OptionalBuild}


ext_modules, cmdclass = extensions()
setup(ext_modules=ext_modules, cmdclass=cmdclass)
