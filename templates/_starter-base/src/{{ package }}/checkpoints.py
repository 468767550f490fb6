"""Lightning checkpoints that rebuild their own model.

Every module a project trains keeps the resolved config it was built from
(``build_config``) in its checkpoint, so evaluating or ranking needs the file alone, not
the command line the training ran with.
"""

from __future__ import annotations

from pathlib import Path


def load_rebuilt(path, error: type[Exception], *, missing: str, made_by: str):
    """(the model rebuilt from its checkpoint's config, with the trained weights; the
    whole checkpoint, for whatever else the project saved in it).

    ``error`` is the project's own one-line error; ``missing`` says what to run when there
    is no file, ``made_by`` names what writes these checkpoints.
    """
    import hydra
    import torch
    from omegaconf import OmegaConf

    path = Path(path)
    if not path.is_file():
        raise error(f"{path} not found: {missing}")
    # our own checkpoint: it holds the optimizer partials, which need full unpickling
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    if not checkpoint.get("build_config"):
        raise error(f"{path} is not a checkpoint of this project's {made_by} (no build_config)")
    model = hydra.utils.instantiate(OmegaConf.create(checkpoint["build_config"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model, checkpoint
