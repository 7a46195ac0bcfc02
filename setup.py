"""Build glue setup.cfg cannot express: the cffi shim and the schema copy."""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithSchema(build_py):
    """Ship spec/*.json (the schema pyoci validates against) as pyoci/schema."""

    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "pyoci", "schema")
        os.makedirs(target, exist_ok=True)
        for name in os.listdir("spec"):
            if name.endswith(".json"):
                shutil.copy(os.path.join("spec", name), target)


setup(
    cffi_modules=["pyoci/_native/build.py:ffibuilder"],
    cmdclass={"build_py": BuildWithSchema},
)
