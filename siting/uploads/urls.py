"""Upload pages, mounted under ``uploads/`` by ``siting.urls``."""

from __future__ import annotations

from django.urls import path

from siting.uploads import headroom_views, views

urlpatterns = [
    path("", views.upload_list, name="siting-upload-list"),
    path("new/", views.upload_create, name="siting-upload-create"),
    path("template/", views.upload_template, name="siting-upload-template"),
    path("template.csv", views.upload_template_csv, name="siting-upload-template-csv"),
    path("samples/<str:name>", views.upload_sample, name="siting-upload-sample"),
    # known headroom at grid points: an analyst's own previews and uploads
    path("headroom/", headroom_views.headroom_list, name="siting-headroom-list"),
    path("headroom/new/", headroom_views.headroom_create, name="siting-headroom-create"),
    path("headroom/preview/<uuid:token>/", headroom_views.headroom_preview, name="siting-headroom-preview"),
    path("headroom/preview/<uuid:token>/confirm/", headroom_views.headroom_confirm, name="siting-headroom-confirm"),
    path("headroom/preview/<uuid:token>/discard/", headroom_views.headroom_discard, name="siting-headroom-discard"),
    path("headroom/<uuid:code>/", headroom_views.headroom_detail, name="siting-headroom-detail"),
    path("headroom/<uuid:code>/withdraw/", headroom_views.headroom_withdraw, name="siting-headroom-withdraw"),
    path("<uuid:code>/", views.upload_detail, name="siting-upload-detail"),
    path("<uuid:code>/confirm/", views.upload_confirm, name="siting-upload-confirm"),
    path("<uuid:code>/discard/", views.upload_discard, name="siting-upload-discard"),
    path("<uuid:code>/withdraw/", views.upload_withdraw, name="siting-upload-withdraw"),
    path("<uuid:code>/errors.csv", views.upload_errors_csv, name="siting-upload-errors"),
]
