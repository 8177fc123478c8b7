"""Identity rules: no IAM users or keys, no admin wildcards, IRSA roles scoped to one service account."""

from __future__ import annotations

import json

import pytest

from tests.policies.records import resource

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
GROUP_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
EXCLUSIVE_ATTACHMENTS = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
MANAGED = "arn:aws:iam::aws:policy/"
OIDC = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/ABC"


def document(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(condition=None):
    statement = {"Effect": "Allow", "Principal": {"Federated": OIDC}, "Action": "sts:AssumeRoleWithWebIdentity"}
    if condition is not None:
        statement["Condition"] = condition
    return document(statement)


class TestNoWildcardAdmin:
    rule = "aws-iam-no-wildcard-admin"

    def test_passes_for_scoped_policy(self, check):
        policy = resource(ROLE_POLICY, "dns", {"role": "r", "policy": document(
            {"Effect": "Allow", "Action": ["route53:ChangeResourceRecordSets"],
             "Resource": "arn:aws:route53:::hostedzone/Z1"},
            {"Effect": "Allow", "Action": "route53:ListHostedZones", "Resource": "*"})})
        assert check(self.rule, policy) == []

    def test_fails_for_star_on_star(self, check):
        policy = resource(ROLE_POLICY, "admin", {"role": "r", "policy": document(
            {"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"})})
        assert check(self.rule, policy) == [
            (policy["urn"], "policy statement Admin allows '*' on '*'; grant only the actions and resources the "
                            "workload needs.")
        ]

    def test_fails_for_service_wildcard_on_star_in_inline_role_policy(self, check):
        role = resource(ROLE, "r", {"assumeRolePolicy": trust(), "inlinePolicies": [
            {"name": "s3", "policy": document({"Effect": "Allow", "Action": ["s3:*"], "Resource": ["*"]})}]})
        assert check(self.rule, role) == [
            (role["urn"], "inline policy s3 statement #0 allows 's3:*' on '*'; grant only the actions and resources "
                          "the workload needs.")
        ]

    def test_service_wildcards_allowed_by_config(self, check):
        policy = resource(ROLE_POLICY, "s3", {"policy": document({"Effect": "Allow", "Action": "s3:*",
                                                                  "Resource": "*"})})
        assert check(self.rule, policy, config={"allowServiceWildcards": True}) == []

    def test_deny_statements_are_fine(self, check):
        policy = resource(ROLE_POLICY, "deny", {"policy": document({"Effect": "Deny", "Action": "*",
                                                                    "Resource": "*"})})
        assert check(self.rule, policy) == []

    def test_passes_when_absent(self, check):
        assert check(self.rule, resource(ROLE_POLICY, "empty", {"role": "r"})) == []


    def test_fails_for_not_action_on_star(self, check):
        policy = resource(ROLE_POLICY, "almost-admin", {"policy": document(
            {"Sid": "AllButIam", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})})
        assert check(self.rule, policy) == [
            (policy["urn"], "policy statement AllButIam allows every action except iam:*, organizations:* "
                            "(NotAction) on '*'; grant only the actions and resources the workload needs.")
        ]

    def test_fails_for_star_on_not_resource(self, check):
        policy = resource(ROLE_POLICY, "nearly-all", {"policy": document(
            {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::audit/*"})})
        assert check(self.rule, policy) == [
            (policy["urn"], "policy statement #0 allows '*' on every resource except arn:aws:s3:::audit/*; grant only "
                            "the actions and resources the workload needs.")
        ]

    def test_not_action_on_named_resources_passes(self, check):
        policy = resource(ROLE_POLICY, "bucket", {"policy": document(
            {"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::cell-ws/*"})})
        assert check(self.rule, policy) == []

    def test_deny_with_not_action_is_fine(self, check):
        policy = resource(ROLE_POLICY, "guard", {"policy": document(
            {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"})})
        assert check(self.rule, policy) == []


class TestNoAdminManagedPolicies:
    """aws-iam-no-wildcard-admin on managed-policy attachments (AWS-managed admin policies are `*` on `*`)."""

    rule = "aws-iam-no-wildcard-admin"

    @staticmethod
    def message(field, arn):
        return (f"{field} attaches {arn}, an admin-level managed policy (deniedManagedPolicies); attach a policy "
                "scoped to what the workload needs.")

    def test_passes_for_scoped_managed_policy(self, check):
        attachment = resource(ATTACHMENT, "node-0", {"role": "node",
                                                     "policyArn": f"{MANAGED}AmazonEKSWorkerNodePolicy"})
        assert check(self.rule, attachment) == []

    @pytest.mark.parametrize("name", ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"])
    def test_fails_for_denied_role_attachment(self, check, name):
        attachment = resource(ATTACHMENT, "admin", {"role": "r", "policyArn": f"{MANAGED}{name}"})
        assert check(self.rule, attachment) == [(attachment["urn"], self.message("policyArn", f"{MANAGED}{name}"))]

    def test_fails_in_other_partitions(self, check):
        arn = "arn:aws-us-gov:iam::aws:policy/PowerUserAccess"
        attachment = resource(POLICY_ATTACHMENT, "power", {"roles": ["r"], "policyArn": arn})
        assert check(self.rule, attachment) == [(attachment["urn"], self.message("policyArn", arn))]

    def test_fails_for_group_attachment(self, check):
        attachment = resource(GROUP_ATTACHMENT, "admins", {"group": "g", "policyArn": f"{MANAGED}IAMFullAccess"})
        assert check(self.rule, attachment) == [
            (attachment["urn"], self.message("policyArn", f"{MANAGED}IAMFullAccess"))
        ]

    def test_fails_for_exclusive_attachments(self, check):
        attachments = resource(EXCLUSIVE_ATTACHMENTS, "r", {"roleName": "r", "policyArns": [
            f"{MANAGED}AmazonEKS_CNI_Policy", f"{MANAGED}AdministratorAccess"]})
        assert check(self.rule, attachments) == [
            (attachments["urn"], self.message("policyArns", f"{MANAGED}AdministratorAccess"))
        ]

    def test_fails_for_role_managed_policy_arns(self, check):
        admin = f"{MANAGED}AdministratorAccess"
        role = resource(ROLE, "r", {"assumeRolePolicy": trust(), "managedPolicyArns": [admin]})
        assert check(self.rule, role) == [(role["urn"], self.message("managedPolicyArns", admin))]

    def test_customer_managed_policy_with_an_admin_name_passes(self, check):
        attachment = resource(ATTACHMENT, "own", {"role": "r",
                                                  "policyArn": "arn:aws:iam::123456789012:policy/AdministratorAccess"})
        assert check(self.rule, attachment) == []

    def test_passes_when_absent(self, check):
        assert check(self.rule, resource(ATTACHMENT, "empty", {"role": "r"})) == []
        assert check(self.rule, resource(ROLE, "bare", {"assumeRolePolicy": trust()})) == []

    def test_denylist_is_configurable_by_name_or_arn(self, check):
        custom = "arn:aws:iam::123456789012:policy/break-glass"
        config = {"deniedManagedPolicies": ["ReadOnlyAccess", custom]}
        read_only = resource(ATTACHMENT, "ro", {"role": "r", "policyArn": f"{MANAGED}ReadOnlyAccess"})
        glass = resource(ATTACHMENT, "glass", {"role": "r", "policyArn": custom})
        power = resource(ATTACHMENT, "power", {"role": "r", "policyArn": f"{MANAGED}PowerUserAccess"})
        assert check(self.rule, read_only, glass, power, config=config) == sorted([
            (read_only["urn"], self.message("policyArn", f"{MANAGED}ReadOnlyAccess")),
            (glass["urn"], self.message("policyArn", custom)),
        ])

    def test_administrator_access_is_denied_even_when_left_out(self, check):
        admin = resource(ATTACHMENT, "admin", {"role": "r", "policyArn": f"{MANAGED}AdministratorAccess"})
        assert check(self.rule, admin, config={"deniedManagedPolicies": []}) == [
            (admin["urn"], self.message("policyArn", f"{MANAGED}AdministratorAccess"))
        ]


class TestIrsaSingleServiceAccount:
    rule = "aws-irsa-single-service-account"

    def role(self, condition):
        return resource(ROLE, "irsa", {"assumeRolePolicy": trust(condition)})

    def test_passes(self, check):
        role = self.role({"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:gitpod:registry-facade",
                                           f"{ISSUER}:aud": "sts.amazonaws.com"}})
        assert check(self.rule, role) == []

    def test_fails_for_wildcard_subject(self, check):
        role = self.role({"StringLike": {f"{ISSUER}:sub": "system:serviceaccount:gitpod:*"},
                          "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}})
        assert check(self.rule, role) == [
            (role["urn"], "the trust policy matches service accounts by pattern (system:serviceaccount:gitpod:*); "
                          "name one service account exactly.")
        ]

    def test_fails_for_two_service_accounts(self, check):
        role = self.role({"StringEquals": {
            f"{ISSUER}:sub": ["system:serviceaccount:gitpod:server", "system:serviceaccount:gitpod:proxy"],
            f"{ISSUER}:aud": "sts.amazonaws.com"}})
        assert check(self.rule, role) == [
            (role["urn"], "the role trusts 2 service accounts (system:serviceaccount:gitpod:proxy, "
                          "system:serviceaccount:gitpod:server); create one role per service account.")
        ]

    def test_fails_when_condition_absent(self, check):
        role = self.role(None)
        assert check(self.rule, role) == [
            (role["urn"], "the trust policy does not pin :aud to sts.amazonaws.com."),
            (role["urn"], "the trust policy has no StringEquals condition on :sub; any service account in the "
                          "cluster could assume this role."),
        ]

    def test_fails_for_malformed_subject(self, check):
        role = self.role({"StringEquals": {f"{ISSUER}:sub": "gitpod/server", f"{ISSUER}:aud": "sts.amazonaws.com"}})
        assert check(self.rule, role) == [
            (role["urn"], ":sub gitpod/server is not of the form system:serviceaccount:NAMESPACE:NAME.")
        ]

    def test_ignores_service_roles(self, check):
        role = resource(ROLE, "eks", {"assumeRolePolicy": document({
            "Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"})})
        assert check(self.rule, role) == []


class TestWildcardResourceUnscopableOnly:
    rule = "aws-iam-wildcard-resource-unscopable-only"

    @staticmethod
    def role_policy(*statements):
        return resource("aws:iam/rolePolicy:RolePolicy", "p", {"policy": json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)})})

    def test_unscopable_actions_pass(self, check):
        policy = self.role_policy({"Effect": "Allow", "Action": ["ec2:DescribeImages", "route53:ListHostedZones"],
                                   "Resource": "*"})
        assert check(self.rule, policy) == []

    def test_scoped_resources_pass(self, check):
        policy = self.role_policy({"Effect": "Allow", "Action": ["route53:ChangeResourceRecordSets"],
                                   "Resource": ["arn:aws:route53:::hostedzone/Z1"]})
        assert check(self.rule, policy) == []

    def test_scopable_action_on_everything_fails(self, check):
        policy = self.role_policy({"Sid": "Scale", "Effect": "Allow", "Action": [
            "autoscaling:DescribeTags", "autoscaling:SetDesiredCapacity"], "Resource": "*"})
        assert check(self.rule, policy) == [(policy["urn"], "policy statement Scale allows "
                                                            "autoscaling:SetDesiredCapacity on every resource; name "
                                                            "the resources (only unscopableActions may use '*').")]

    def test_kms_through_one_service_passes(self, check):
        policy = self.role_policy({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": ["*"], "Condition": {
            "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}})
        assert check(self.rule, policy) == []

    def test_absent_policy_passes(self, check):
        assert check(self.rule, resource("aws:iam/rolePolicy:RolePolicy", "p", {})) == []
