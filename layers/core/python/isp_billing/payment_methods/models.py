"""A customer's payment methods: what they may send, and the masked view they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, SecretStr, StrictInt, field_validator, model_validator

from isp_billing.api_models import ApiModel, RequestModel
from isp_billing.clock import sast_today
from isp_billing.money import Money
from isp_billing.text import BankNameText, DisplayNameText, PersonNameText

MethodType = Literal["debit_order", "card", "eft"]
AccountType = Literal["cheque", "savings", "transmission"]
MandateStatusValue = Literal["pending", "accepted", "declined", "cancelled", "expired"]
CardBrand = Literal["visa", "mastercard", "amex", "diners", "discover", "maestro", "other"]

DisplayName = Annotated[
    DisplayNameText | None, Field(default=None, description="The customer's own label for this method.")
]


def expiry_has_passed(month: int, year: int) -> bool:
    today = sast_today()
    return (year, month) < (today.year, today.month)


class DebitOrderCreate(RequestModel):
    """A bank account for debit orders. A NetCash eMandate is requested at once; the customer signs online."""

    method_type: Literal["debit_order"] = Field(description="debit_order: collect from a bank account.")
    display_name: DisplayName = None
    bank_name: BankNameText = Field(description="e.g. FNB, Capitec, Standard Bank.")
    branch_code: str = Field(
        pattern=r"^[0-9]{6}$", description="6 digits; the bank's universal branch code is best."
    )
    account_type: AccountType = Field(description="The bank account's type: cheque, savings or transmission.")
    account_number: SecretStr = Field(
        description="7 to 11 digits (spaces allowed). Validated with NetCash, sent to NetCash, then stored "
        "and shown only masked (****1234); never logged or returned.",
        json_schema_extra={"pattern": "^[0-9 ]{7,14}$"},
    )
    account_holder: PersonNameText = Field(description="The account holder's name.")

    @field_validator("account_number")
    @classmethod
    def _account_number_digits(cls, value: SecretStr) -> SecretStr:
        digits = value.get_secret_value().replace(" ", "")
        if not digits.isdigit() or not 7 <= len(digits) <= 11 or not digits.isascii():
            raise ValueError("must be 7 to 11 digits")
        return SecretStr(digits)

    def fingerprint_material(self) -> dict[str, Any]:
        """The request as hashed for idempotency (the account number included, so a change is noticed)."""
        return {**self.model_dump(mode="json"), "account_number": self.account_number.get_secret_value()}


class CardCreate(RequestModel):
    """A card the payment provider already holds: its token and display details only, never the number."""

    method_type: Literal["card"] = Field(description="card: a card the payment provider holds as a token.")
    display_name: DisplayName = None
    provider_token: str = Field(
        min_length=8, max_length=255, pattern=r"^[A-Za-z0-9_\-:.]+$", description="The provider's card token."
    )
    card_brand: CardBrand = Field(description="The card scheme, for display.")
    card_last4: str = Field(
        pattern=r"^[0-9]{4}$", description="The card number's last 4 digits only, e.g. 4242."
    )
    card_expiry_month: StrictInt = Field(ge=1, le=12, description="Expiry month, 1-12.")
    card_expiry_year: StrictInt = Field(
        ge=2000, le=2200, description="Expiry year, four digits; the card must not have expired."
    )

    @model_validator(mode="after")
    def _not_expired(self) -> CardCreate:
        if expiry_has_passed(self.card_expiry_month, self.card_expiry_year):
            raise ValueError("the card has expired")
        return self

    def fingerprint_material(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class EftCreate(RequestModel):
    """The customer pays each invoice by EFT themselves; nothing is collected."""

    method_type: Literal["eft"] = Field(description="eft: the customer pays each invoice by EFT themselves.")
    display_name: DisplayName = None

    def fingerprint_material(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


PaymentMethodCreate = Annotated[DebitOrderCreate | CardCreate | EftCreate, Field(discriminator="method_type")]


class PaymentMethodUpdate(RequestModel):
    """Only these may change; any other field (customer_id, is_primary, is_active, mandate ...) is a 422."""

    display_name: DisplayName = None
    card_expiry_month: StrictInt | None = Field(default=None, ge=1, le=12, description="Cards only.")
    card_expiry_year: StrictInt | None = Field(default=None, ge=2000, le=2200, description="Cards only.")

    @model_validator(mode="after")
    def _something_to_change(self) -> PaymentMethodUpdate:
        if not self.model_fields_set:
            raise ValueError("nothing to change: send display_name or card_expiry_month/card_expiry_year")
        for name in ("card_expiry_month", "card_expiry_year"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be removed")
        return self


class PaymentMethod(ApiModel):
    """A payment method as the customer sees it: masked details only."""

    id: UUID = Field(description="The payment method's id.")
    method_type: MethodType = Field(description="debit_order, card or eft.")
    display_name: str | None = Field(description="The customer's own label for this method, if any.")
    is_primary: bool = Field(description="Invoices are collected from the primary method (with auto-pay).")
    is_collectable: bool = Field(
        description="Can be collected from now: an active debit order with an accepted mandate, or an "
        "active unexpired card. EFT is never collected."
    )
    created_at: datetime = Field(description="When the method was added (ISO 8601 instant).")
    bank_name: str | None = Field(default=None, description="Debit orders: the bank's name; null otherwise.")
    account_type: AccountType | None = Field(
        default=None, description="Debit orders: cheque, savings or transmission; null otherwise."
    )
    account_number_masked: str | None = Field(default=None, description="Last 4 digits only: ****1234.")
    mandate_status: MandateStatusValue | None = Field(
        default=None, description="Debit orders: NetCash eMandate status; only accepted is collected."
    )
    mandate_amount: Money | None = Field(
        default=None,
        description="The most a collection may take under the mandate: ZAR, VAT inclusive, two decimals"
        " as a string.",
    )
    mandate_signed_at: datetime | None = Field(
        default=None, description="Debit orders: when the customer signed the mandate (ISO 8601 instant)."
    )
    mandate_url: str | None = Field(
        default=None,
        description="While the mandate is pending: the NetCash page where the customer signs it.",
    )
    card_brand: str | None = Field(
        default=None, description="Cards: the card scheme, e.g. visa; null otherwise."
    )
    card_last4: str | None = Field(
        default=None, description="Cards: the card number's last 4 digits only; null otherwise."
    )
    card_expiry_month: int | None = Field(
        default=None, description="Cards: expiry month, 1-12; null otherwise."
    )
    card_expiry_year: int | None = Field(
        default=None, description="Cards: expiry year, four digits; null otherwise."
    )

    @model_validator(mode="before")
    @classmethod
    def _derive(cls, data: Any) -> Any:
        if isinstance(data, dict) and "is_collectable" not in data:
            data = dict(data)
            data["is_collectable"] = is_collectable(data)
            if data.get("mandate_status") != "pending":
                data["mandate_url"] = None
        return data


def is_collectable(row: dict[str, Any]) -> bool:
    if not row.get("is_active", True):
        return False
    if row.get("method_type") == "debit_order":
        return row.get("mandate_status") == "accepted"
    if row.get("method_type") == "card":
        month, year = row.get("card_expiry_month"), row.get("card_expiry_year")
        return month is not None and year is not None and not expiry_has_passed(month, year)
    return False


class MandateWebhookReceipt(ApiModel):
    outcome: Literal["applied", "unchanged", "duplicate", "ignored"] = Field(
        description="applied: the mandate status changed; unchanged: already so; duplicate: this delivery "
        "was handled before; ignored: not a mandate we created, or a transition we do not accept."
    )
