"""Campaigns, vouchers and voucher types in the API. Thin viewsets: ``get_queryset`` is ``for_user`` plus joins;
writes call ``crm.campaigns`` and ``crm.vouchers``; a step the record's state forbids is a 409."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import campaigns, vouchers
from ..care_filters import CampaignFilterSet, VoucherFilterSet, VoucherTypeFilterSet
from ..choices import CampaignChannel
from ..models import Campaign, Customer, Segment, Voucher, VoucherType
from ..querysets import user_dealership_ids
from .serializers import RooftopField, ScopedField

# --- serializers -----------------------------------------------------------------------------------


class VoucherTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = VoucherType
        fields = ["id", "dealership", "kind", "name", "value", "valid_days", "active"]
        read_only_fields = fields


class VoucherTypeInputSerializer(serializers.ModelSerializer):
    dealership = RooftopField(required=False, help_text="On create: one of your rooftops.")

    class Meta:
        model = VoucherType
        fields = ["dealership", "kind", "name", "value", "valid_days", "active"]
        validators = []  # the service checks the name's uniqueness within the rooftop, with its message


class CampaignResultsSerializer(serializers.Serializer):
    contacts = serializers.IntegerField(help_text="Calls and messages the launch promised.")
    contacted = serializers.IntegerField(help_text="… done, and the customer heard the offer.")
    booked = serializers.IntegerField()
    vouchers_issued = serializers.IntegerField()
    vouchers_redeemed = serializers.IntegerField()
    revenue = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Revenue of the orders the vouchers were redeemed on."
    )


class CampaignSerializer(serializers.ModelSerializer):
    segment_name = serializers.CharField(source="segment.name", read_only=True)
    results = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "dealership",
            "name",
            "segment",
            "segment_name",
            "offer",
            "voucher_type",
            "channel",
            "starts_on",
            "ends_on",
            "status",
            "created_by",
            "created_at",
            "results",
        ]
        read_only_fields = fields

    @extend_schema_field(CampaignResultsSerializer)
    def get_results(self, campaign) -> dict:
        """From the list's annotations (``crm.campaigns.with_results``): no query per row."""
        return {
            "contacts": campaign.contact_count,
            "contacted": campaign.contacted_count,
            "booked": campaign.booked_count,
            "vouchers_issued": campaign.issued_count,
            "vouchers_redeemed": campaign.redeemed_count,
            "revenue": f"{campaign.revenue:.2f}",
        }


def _segments(user):
    return Segment.objects.for_user(user)


def _voucher_types(user):
    return VoucherType.objects.filter(dealership_id__in=user_dealership_ids(user), active=True)


def _customers(user):
    return Customer.objects.for_user(user)


class CampaignInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    segment = ScopedField(_segments, help_text="A saved segment of one of your rooftops.")
    offer = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    voucher_type = ScopedField(_voucher_types, required=False, allow_null=True, default=None)
    channel = serializers.ChoiceField(choices=CampaignChannel.choices, default=CampaignChannel.CALL)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class VoucherSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="voucher_type.kind", read_only=True)
    customer_name = serializers.CharField(source="customer.full_name", read_only=True)
    redeemed_on_type = serializers.SerializerMethodField()

    class Meta:
        model = Voucher
        fields = [
            "id",
            "code",
            "dealership",
            "customer",
            "customer_name",
            "voucher_type",
            "kind",
            "campaign",
            "value",
            "valid_from",
            "valid_until",
            "status",
            "issued_by",
            "issued_at",
            "redeemed_at",
            "redeemed_by",
            "redeemed_on_type",
            "redeemed_on_id",
            "redeemed_amount",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=vouchers.REDEEMABLE_CHOICES, allow_null=True))
    def get_redeemed_on_type(self, voucher) -> str | None:
        if voucher.redeemed_on_type_id is None:
            return None
        natural = (voucher.redeemed_on_type.app_label, voucher.redeemed_on_type.model)
        return next((name for name, key in vouchers.REDEEMABLE.items() if key == natural), None)


class VoucherIssueSerializer(serializers.Serializer):
    customer = ScopedField(_customers, help_text="A customer of one of your rooftops.")
    voucher_type = ScopedField(_voucher_types, help_text="An active voucher type of the customer's rooftop.")


class VoucherRedeemSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=30, help_text="As the customer shows it; spaces and dashes are ignored.")
    subject_type = serializers.ChoiceField(choices=vouchers.REDEEMABLE_CHOICES)
    subject_id = serializers.IntegerField(min_value=1)
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, help_text="The order's revenue, recorded with the redemption."
    )


# --- viewsets ----------------------------------------------------------------------------------------


VIEW_CAMPAIGN = ["crm.view_campaign"]
CHANGE_CAMPAIGN = ["crm.view_campaign", "crm.change_campaign"]
CHANGE_VOUCHER = ["crm.view_voucher", "crm.change_voucher"]


class CampaignViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Campaigns 营销活动 of your rooftops with their results. ``launch`` turns a draft's segment into calls in
    the queue or messages (consenting customers only), each with a voucher when the campaign has a type;
    ``finish`` cancels the contacts not made yet. A step the campaign's status forbids is a 409."""

    queryset = Campaign.objects.none()
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilterSet
    ordering_fields = ["starts_on", "ends_on", "created_at", "name"]
    lookup_value_regex = r"\d+"
    action_permissions = {"launch": CHANGE_CAMPAIGN, "finish": CHANGE_CAMPAIGN, "results": VIEW_CAMPAIGN}

    def get_queryset(self):
        access = "change" if self.action in ("launch", "finish") else "view"
        return campaigns.campaign_list(user=self.request.user, action=access)

    def respond(self, campaign_id: int, code=status.HTTP_200_OK) -> Response:
        campaign = campaigns.campaign_list(user=self.request.user).get(pk=campaign_id)
        return Response(self.get_serializer(campaign).data, status=code)

    @extend_schema(request=CampaignInputSerializer, responses={201: CampaignSerializer})
    def create(self, request, *args, **kwargs):
        serializer = CampaignInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        campaign = campaigns.campaign_create(actor=request.user, data=dict(serializer.validated_data))
        return self.respond(campaign.pk, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def launch(self, request, pk=None):
        campaign = self.get_object()
        campaigns.campaign_launch(actor=request.user, campaign_id=campaign.pk)
        return self.respond(campaign.pk)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def finish(self, request, pk=None):
        campaign = self.get_object()
        campaigns.campaign_finish(actor=request.user, campaign_id=campaign.pk)
        return self.respond(campaign.pk)

    @extend_schema(responses=CampaignResultsSerializer)
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        campaign = self.get_object()
        results = campaigns.campaign_results(campaign=campaign)
        return Response(CampaignResultsSerializer(results).data)


class VoucherViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Vouchers 代金券 of your rooftops. Create issues one to a customer; ``redeem`` uses a code on a repair
    order or sales order of the voucher's rooftop (once: of two at the same moment one wins, the other gets
    409); ``void`` withdraws an issued one. An expired, unknown or other rooftop's code is a 400."""

    queryset = Voucher.objects.none()
    serializer_class = VoucherSerializer
    filterset_class = VoucherFilterSet
    ordering_fields = ["issued_at", "valid_until", "redeemed_at"]
    lookup_value_regex = r"\d+"
    action_permissions = {"redeem": CHANGE_VOUCHER, "void": CHANGE_VOUCHER}

    def get_queryset(self):
        access = "change" if self.action == "void" else "view"
        return vouchers.voucher_list(user=self.request.user, action=access)

    def respond(self, voucher_id: int, code=status.HTTP_200_OK) -> Response:
        voucher = vouchers.voucher_list(user=self.request.user).get(pk=voucher_id)
        return Response(self.get_serializer(voucher).data, status=code)

    @extend_schema(request=VoucherIssueSerializer, responses={201: VoucherSerializer})
    def create(self, request, *args, **kwargs):
        serializer = VoucherIssueSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        voucher = vouchers.voucher_issue(actor=request.user, **serializer.validated_data)
        return self.respond(voucher.pk, status.HTTP_201_CREATED)

    @extend_schema(request=VoucherRedeemSerializer, responses=VoucherSerializer)
    @action(detail=False, methods=["post"])
    def redeem(self, request):
        serializer = VoucherRedeemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subject = vouchers.redeemable_subject(
            user=request.user, subject_type=data["subject_type"], subject_id=data["subject_id"]
        )
        voucher = vouchers.voucher_redeem(actor=request.user, code=data["code"], subject=subject, amount=data["amount"])
        return self.respond(voucher.pk)

    @extend_schema(request=None, responses=VoucherSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        voucher = self.get_object()
        vouchers.voucher_void(actor=request.user, voucher_id=voucher.pk)
        return self.respond(voucher.pk)


class VoucherTypeViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The kinds of voucher your rooftops issue (referral fund, complaint consolation, loyalty reward,
    win-back) with their value and validity; managers add and change them."""

    queryset = VoucherType.objects.none()
    serializer_class = VoucherTypeSerializer
    filterset_class = VoucherTypeFilterSet
    ordering_fields = ["kind", "name", "value"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        access = "change" if self.action in ("update", "partial_update") else "view"
        return VoucherType.objects.for_user(self.request.user, access).order_by("dealership", "kind", "name")

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return VoucherTypeInputSerializer
        return VoucherTypeSerializer

    def respond(self, voucher_type: VoucherType, code=status.HTTP_200_OK) -> Response:
        return Response(VoucherTypeSerializer(voucher_type).data, status=code)

    @extend_schema(request=VoucherTypeInputSerializer, responses={201: VoucherTypeSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        dealership = data.pop("dealership", None)
        if dealership is None:
            raise serializers.ValidationError({"dealership": ["Choose the rooftop."]})
        voucher_type = vouchers.voucher_type_create(actor=request.user, dealership=dealership, data=data)
        return self.respond(voucher_type, status.HTTP_201_CREATED)

    @extend_schema(request=VoucherTypeInputSerializer, responses=VoucherTypeSerializer)
    def update(self, request, *args, **kwargs):
        voucher_type = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("dealership", None)
        voucher_type = vouchers.voucher_type_update(actor=request.user, voucher_type_id=voucher_type.pk, data=data)
        return self.respond(voucher_type)
