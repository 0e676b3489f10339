"""`keras.preprocessing.image`: the image helpers NumPy suffices for.

Keras's `load_img`, `save_img` and `array_to_img` need the Pillow library and `smart_resize`
needs TensorFlow's image resizing; minikeras depends on NumPy only and leaves them out.
"""

from minikeras.utils.image_utils import img_to_array

__all__ = ["img_to_array"]
