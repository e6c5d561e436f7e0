"""The customer's own profile: what they see of their contact details and what they may change."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from isp_billing.api_models import ApiModel, RequestModel
from isp_billing.customers.admin_models import Address, CustomerType, EmailText, PhoneText, StoredAddress


class Profile(ApiModel):
    account_number: str = Field(description="CUS-YYYY-NNNNN: quote it as the payment reference.")
    customer_type: CustomerType = Field(description="consumer or business.")
    first_name: str = Field(description="First name.")
    last_name: str = Field(description="Last name.")
    email: str = Field(description="The account's e-mail (the sign-in e-mail is Supabase Auth's).")
    phone: str | None = Field(description="E.164 phone.")
    physical_address: StoredAddress = Field(description="Physical address.")
    postal_address: StoredAddress = Field(description="Postal address.")
    company_name: str | None = Field(description="A business's name.")
    vat_number: str | None = Field(description="A business's VAT number.")
    invoice_email: str = Field(description="Where invoices are e-mailed.")


class ProfileUpdate(RequestModel):
    """Only the fields sent change. Names, the account e-mail and business details change through support;
    the sign-in e-mail through Supabase Auth."""

    phone: PhoneText | None = Field(default=None, description="E.164 phone (or 0821234567); null clears it.")
    physical_address: Address | None = Field(default=None, description="Physical address; null clears it.")
    postal_address: Address | None = Field(default=None, description="Postal address; null clears it.")
    invoice_email: EmailText | None = Field(default=None, description="Where invoices are e-mailed.")

    @model_validator(mode="after")
    def _invoice_email_stays_set(self) -> ProfileUpdate:
        if "invoice_email" in self.model_fields_set and self.invoice_email is None:
            raise PydanticCustomError("required_field", "invoice_email cannot be cleared")
        return self
