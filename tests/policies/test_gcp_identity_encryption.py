"""GCP identity (service-account keys, Workload Identity) and encryption (Artifact Registry, KMS) rules."""

from __future__ import annotations

from tests.policies.records import resource

SA_KEY = "gcp:serviceaccount/key:Key"
IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
IAM_BINDING = "gcp:serviceaccount/iAMBinding:IAMBinding"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
WI_USER = "roles/iam.workloadIdentityUser"
KSA = "serviceAccount:proj.svc.id.goog[gitpod/registry-facade]"


class TestNoServiceAccountKeys:
    rule = "gcp-no-service-account-keys"
    message = ("service-account keys are not allowed; bind the workload's Kubernetes service account with Workload "
               "Identity instead.")

    def test_fails(self, check):
        key = resource(SA_KEY, "key", {"serviceAccountId": "gitpod@proj.iam.gserviceaccount.com"})
        assert check(self.rule, key) == [(key["urn"], self.message)]

    def test_fails_with_no_inputs(self, check):
        key = resource(SA_KEY, "key")
        assert check(self.rule, key) == [(key["urn"], self.message)]

    def test_passes_without_keys(self, check):
        assert check(self.rule, resource(IAM_MEMBER, "wi", {"role": WI_USER, "member": KSA})) == []


class TestWorkloadIdentitySingleKsa:
    rule = "gcp-workload-identity-single-ksa"

    def test_passes_for_one_member(self, check):
        assert check(self.rule, resource(IAM_MEMBER, "wi", {"role": WI_USER, "member": KSA,
                                                            "serviceAccountId": "projects/p/serviceAccounts/s"})) == []

    def test_passes_for_a_principal_identifier(self, check):
        principal = ("principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/"
                     "proj.svc.id.goog/subject/ns/gitpod/sa/server")
        assert check(self.rule, resource(IAM_MEMBER, "wi", {"role": WI_USER, "member": principal})) == []

    def test_fails_for_wildcard_member(self, check):
        member = resource(IAM_MEMBER, "wi", {"role": WI_USER, "member": "serviceAccount:proj.svc.id.goog[gitpod/*]"})
        assert check(self.rule, member) == [
            (member["urn"], "member 'serviceAccount:proj.svc.id.goog[gitpod/*]' is not a single Kubernetes service "
                            "account (serviceAccount:PROJECT.svc.id.goog[NAMESPACE/NAME]).")
        ]

    def test_fails_for_binding_with_two_members(self, check):
        binding = resource(IAM_BINDING, "wi", {"role": WI_USER, "members": [
            KSA, "serviceAccount:proj.svc.id.goog[gitpod/server]"]})
        assert check(self.rule, binding) == [
            (binding["urn"], "grants roles/iam.workloadIdentityUser to 2 members; bind one Kubernetes service "
                             "account per Google service account.")
        ]

    def test_fails_when_member_absent(self, check):
        binding = resource(IAM_BINDING, "wi", {"role": WI_USER})
        assert check(self.rule, binding) == [
            (binding["urn"], "grants roles/iam.workloadIdentityUser to 0 members; bind one Kubernetes service "
                             "account per Google service account.")
        ]

    def test_ignores_other_roles(self, check):
        assert check(self.rule, resource(IAM_MEMBER, "user", {"role": "roles/iam.serviceAccountUser",
                                                              "member": "group:ops@example.com"})) == []


class TestArtifactRegistryCmek:
    rule = "gcp-artifact-registry-cmek"
    message = "kmsKeyName is not set; encrypt with the cell's Cloud KMS key."

    def test_passes(self, check):
        assert check(self.rule, resource(REPOSITORY, "repo", {"format": "DOCKER", "kmsKeyName": "projects/p/k"})) == []

    def test_fails_when_empty(self, check):
        repo = resource(REPOSITORY, "repo", {"format": "DOCKER", "kmsKeyName": ""})
        assert check(self.rule, repo) == [(repo["urn"], self.message)]

    def test_fails_when_absent(self, check):
        repo = resource(REPOSITORY, "repo", {"format": "DOCKER"})
        assert check(self.rule, repo) == [(repo["urn"], self.message)]


class TestKmsKeyRotation:
    rule = "gcp-kms-key-rotation"

    def test_passes(self, check):
        assert check(self.rule, resource(CRYPTO_KEY, "key", {"rotationPeriod": "7776000s"})) == []

    def test_fails_when_too_long(self, check):
        key = resource(CRYPTO_KEY, "key", {"rotationPeriod": "31536000s"})
        assert check(self.rule, key) == [
            (key["urn"], "rotationPeriod is 31536000s (365 days); rotate at least every 90 days.")
        ]

    def test_fails_when_not_a_duration(self, check):
        key = resource(CRYPTO_KEY, "key", {"rotationPeriod": "yearly"})
        assert check(self.rule, key) == [
            (key["urn"], "rotationPeriod is 'yearly', which is not a duration; rotate at least every 90 days.")
        ]

    def test_fails_when_absent(self, check):
        key = resource(CRYPTO_KEY, "key", {})
        assert check(self.rule, key) == [
            (key["urn"], "rotationPeriod is not set; rotate at least every 90 days.")
        ]

    def test_signing_keys_are_exempt(self, check):
        assert check(self.rule, resource(CRYPTO_KEY, "sign", {"purpose": "ASYMMETRIC_SIGN"})) == []
