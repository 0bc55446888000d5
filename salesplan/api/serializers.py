from rest_framework import serializers

from salesplan.models import Membership, Organization


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "currency", "time_zone"]


class MembershipSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "name", "email", "role", "salesperson_kind", "team", "is_active"]


class MeSerializer(serializers.Serializer):
    membership = MembershipSerializer()
    organization = OrganizationSerializer()
