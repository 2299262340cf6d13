"""Build seqlab's one compiled module, the token kernels of seqlab.tasks.vector_tokenize
(everything else is in pyproject.toml). The module is optional: where it cannot be built (no
C compiler), seqlab installs without it and tokenizes with its numpy code, which gives the
same results, more slowly."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "seqlab.tasks._token_kernel",
            sources=["seqlab/tasks/_token_kernel.c"],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ]
)
