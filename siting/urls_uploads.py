"""Upload pages, mounted under ``uploads/`` by ``siting.urls``."""

from __future__ import annotations

from django.urls import path

from . import views_uploads

urlpatterns = [
    path("", views_uploads.upload_list, name="siting-upload-list"),
    path("new/", views_uploads.upload_create, name="siting-upload-create"),
    path("template/", views_uploads.upload_template, name="siting-upload-template"),
    path("template.csv", views_uploads.upload_template_csv, name="siting-upload-template-csv"),
    path("samples/<str:name>", views_uploads.upload_sample, name="siting-upload-sample"),
    path("<uuid:code>/", views_uploads.upload_detail, name="siting-upload-detail"),
    path("<uuid:code>/confirm/", views_uploads.upload_confirm, name="siting-upload-confirm"),
    path("<uuid:code>/discard/", views_uploads.upload_discard, name="siting-upload-discard"),
    path("<uuid:code>/withdraw/", views_uploads.upload_withdraw, name="siting-upload-withdraw"),
    path("<uuid:code>/errors.csv", views_uploads.upload_errors_csv, name="siting-upload-errors"),
]
