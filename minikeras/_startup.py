"""Start-up hook: imported by ``minikeras_hook.pth`` when ``KERAS_BACKEND=minikeras``.

The .pth line installed next to the package checks the environment variable itself (so that a
Python start-up without it costs one dictionary look-up and imports nothing). When the variable
says ``minikeras``, it imports this module, which makes ``import keras`` resolve to minikeras for
the whole interpreter, as if the script had been started with ``minikeras run``.
"""

from minikeras._aliasing import install

install()
