"""Modules imported on first use instead of at import time (`differer`).

great-expectations imports `scipy.stats` and `altair` when it is imported, for expectations and renderers this
project never runs (KL divergence, KS tests, charts): ~1.7 s of CPU in the checks process, on the run's critical
path. `differer("scipy.stats", "altair")` before importing it puts a stand-in in `sys.modules` for each module not
yet imported; the first attribute read on a stand-in imports the real module and forwards to it, so a module that
does use them still works (only slower the first time).

    differer("scipy.stats", "altair")
    import great_expectations        # no scipy.stats, no altair imported
"""

from __future__ import annotations

import importlib
import sys
import threading
import types

_VERROU = threading.RLock()  # re-entrant: importing one module may read another stand-in


class Differe(types.ModuleType):
    """A stand-in for module `__name__`: reading any attribute it lacks imports the real module and reads it there."""

    def __getattr__(self, attribut: str):
        return getattr(self._reel(), attribut)

    def _reel(self) -> types.ModuleType:
        with _VERROU:
            reel = self.__dict__.get("_module_reel")
            if reel is None:
                if sys.modules.get(self.__name__) is self:
                    del sys.modules[self.__name__]
                reel = importlib.import_module(self.__name__)
                self.__dict__["_module_reel"] = reel
            return reel


def differer(*noms: str) -> list[str]:
    """Put a stand-in (`Differe`) in `sys.modules` for each of `noms` not imported yet; returns those deferred."""
    differes = []
    for nom in noms:
        if nom not in sys.modules:
            sys.modules[nom] = Differe(nom)
            differes.append(nom)
    return differes
