"""Upload pages, mounted under ``uploads/`` by ``siting.urls``."""

from __future__ import annotations

from django.urls import path

from . import views_headroom, views_uploads

urlpatterns = [
    path("", views_uploads.upload_list, name="siting-upload-list"),
    path("new/", views_uploads.upload_create, name="siting-upload-create"),
    path("template/", views_uploads.upload_template, name="siting-upload-template"),
    path("template.csv", views_uploads.upload_template_csv, name="siting-upload-template-csv"),
    path("samples/<str:name>", views_uploads.upload_sample, name="siting-upload-sample"),
    # known headroom at grid points: an analyst's own previews and uploads
    path("headroom/", views_headroom.headroom_list, name="siting-headroom-list"),
    path("headroom/new/", views_headroom.headroom_create, name="siting-headroom-create"),
    path("headroom/preview/<uuid:token>/", views_headroom.headroom_preview, name="siting-headroom-preview"),
    path("headroom/preview/<uuid:token>/confirm/", views_headroom.headroom_confirm, name="siting-headroom-confirm"),
    path("headroom/preview/<uuid:token>/discard/", views_headroom.headroom_discard, name="siting-headroom-discard"),
    path("headroom/<uuid:code>/", views_headroom.headroom_detail, name="siting-headroom-detail"),
    path("headroom/<uuid:code>/withdraw/", views_headroom.headroom_withdraw, name="siting-headroom-withdraw"),
    path("<uuid:code>/", views_uploads.upload_detail, name="siting-upload-detail"),
    path("<uuid:code>/confirm/", views_uploads.upload_confirm, name="siting-upload-confirm"),
    path("<uuid:code>/discard/", views_uploads.upload_discard, name="siting-upload-discard"),
    path("<uuid:code>/withdraw/", views_uploads.upload_withdraw, name="siting-upload-withdraw"),
    path("<uuid:code>/errors.csv", views_uploads.upload_errors_csv, name="siting-upload-errors"),
]
