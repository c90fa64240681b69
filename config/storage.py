"""Static file storage for collected static files (``GIGASITE_STATIC=collected``)."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ModuleManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's hashed, compressed storage that also rewrites ES-module imports.

    The ranked map is a set of native ES modules (``static/js/ranked_map/``) that import one
    another by relative paths. Collected under content-hashed names, ``./data.js`` would miss
    (and the long-cached ``main.<hash>.js`` would keep importing stale code), so ``import``
    and ``export ... from`` specifiers are rewritten to the hashed names too: Django's
    ``support_js_module_import_aggregation``, off by default.

    References
    ----------
    https://docs.djangoproject.com/en/5.2/ref/contrib/staticfiles/#manifeststaticfilesstorage
    """

    support_js_module_import_aggregation = True
