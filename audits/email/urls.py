"""Email deliverability pages, mounted at /w/<uuid:workspace>/sites/<uuid:site>/email/….

The empty path stays with launchready's "Email sending" settings page; these are below it.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("deliverability/", views.email_overview, name="email_overview"),
    path("test-address/", views.test_address_create, name="email_test_address_create"),
    path("report-address/", views.report_address_create, name="email_report_address_create"),
    path("test-message/", views.test_message_detail, name="email_test_message"),
    path("test-message/html/", views.test_message_html, name="email_test_message_html"),
    path("reports/upload/", views.report_upload, name="email_report_upload"),
]
