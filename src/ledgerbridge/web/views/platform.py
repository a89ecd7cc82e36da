"""Platform staff's pages for opening companies."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from ledgerbridge.companies.services import company_create_with_super_admin
from ledgerbridge.errors import ApplicationError, PermissionDeniedError, errors_of

from ..forms import NewCompanyForm
from .common import apply_error, forbidden


@sensitive_post_parameters("admin_password", "admin_password_again")
@login_required
def company_new(request: HttpRequest) -> HttpResponse:
    if not getattr(request.user, "is_platform_staff", False):
        return forbidden(request, "Only platform staff can create companies.")
    form = NewCompanyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            company, admin = company_create_with_super_admin(
                by=request.user,  # type: ignore[arg-type]
                company={name: data[name] for name in NewCompanyForm.COMPANY_FIELDS},
                admin_username=data["admin_username"],
                admin_email=data["admin_email"],
                admin_password=data["admin_password"],
                admin_password_again=data["admin_password_again"],
                admin_first_name=data["admin_first_name"],
                admin_last_name=data["admin_last_name"],
            )
        except PermissionDeniedError as error:
            return forbidden(request, error.message)
        except ApplicationError as error:
            for each in errors_of(error):
                apply_error(form, each)
        else:
            messages.success(
                request,
                f"{company.legal_name} is created. Its Super Admin {admin.username} "
                f"({admin.email}) can log in with the password you set.",
            )
            return redirect("platform_operations")
    return render(request, "web/platform/company_new.html", {"form": form})
