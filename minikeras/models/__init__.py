"""`keras.models`: Model and Sequential, and saving, loading and cloning whole models."""

from minikeras.models.cloning import clone_model
from minikeras.models.model import Model
from minikeras.models.sequential import Sequential
from minikeras.saving.saving_api import load_model, model_from_json, save_model

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
