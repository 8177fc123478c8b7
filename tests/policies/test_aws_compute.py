"""Launch template rules: IMDSv2 and encrypted EBS root volumes."""

from __future__ import annotations

from tests.policies.records import resource

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


def template(**inputs):
    return resource(LAUNCH_TEMPLATE, "nodes", inputs)


class TestImdsV2:
    rule = "aws-launch-template-imdsv2"

    def test_passes_with_hop_limit_one(self, check):
        assert check(self.rule, template(metadataOptions={"httpTokens": "required",
                                                          "httpPutResponseHopLimit": 1})) == []

    def test_fails_with_hop_limit_two_by_default(self, check):
        lt = template(metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 2})
        assert check(self.rule, lt) == [(lt["urn"], "metadataOptions.httpPutResponseHopLimit is 2; at most 1.")]

    def test_fails_with_optional_tokens_and_high_hop_limit(self, check):
        lt = template(metadataOptions={"httpTokens": "optional", "httpPutResponseHopLimit": 3})
        assert check(self.rule, lt) == [
            (lt["urn"], "metadataOptions.httpPutResponseHopLimit is 3; at most 1."),
            (lt["urn"], "metadataOptions.httpTokens is 'optional'; it must be 'required' (IMDSv2)."),
        ]

    def test_fails_when_absent(self, check):
        lt = template()
        assert check(self.rule, lt) == [
            (lt["urn"], "metadataOptions.httpPutResponseHopLimit is not set; set it to at most 1 (unset, the AMI "
                        "decides: 2 for AMIs registered with ImdsSupport v2.0, such as Amazon Linux 2023)."),
            (lt["urn"], "metadataOptions.httpTokens is not set; it must be 'required' (IMDSv2)."),
        ]

    def test_fails_when_only_hop_limit_absent(self, check):
        lt = template(metadataOptions={"httpTokens": "required"})
        assert check(self.rule, lt) == [
            (lt["urn"], "metadataOptions.httpPutResponseHopLimit is not set; set it to at most 1 (unset, the AMI "
                        "decides: 2 for AMIs registered with ImdsSupport v2.0, such as Amazon Linux 2023)."),
        ]

    def test_fails_when_not_a_number(self, check):
        lt = template(metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": "one"})
        assert check(self.rule, lt) == [
            (lt["urn"], "metadataOptions.httpPutResponseHopLimit 'one' is not a whole number; set it to at most 1."),
        ]

    def test_hop_limit_is_configurable(self, check):
        lt = template(metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 2})
        assert check(self.rule, lt, config={"maxHopLimit": 2}) == []


class TestEbsEncrypted:
    rule = "aws-launch-template-ebs-encrypted"

    def test_passes_with_string_true(self, check):
        mapping = {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeType": "gp3", "kmsKeyId": "k"}}
        assert check(self.rule, template(blockDeviceMappings=[mapping])) == []

    def test_fails_unencrypted(self, check):
        lt = template(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}])
        assert check(self.rule, lt) == [(lt["urn"], "EBS volume /dev/xvda is not encrypted.")]

    def test_fails_when_absent(self, check):
        lt = template()
        assert check(self.rule, lt) == [
            (lt["urn"], "blockDeviceMappings has no EBS volume; map the root volume with ebs.encrypted = true (the "
                        "AMI's default volume may be unencrypted).")
        ]
