from flexsupply.kit.auth import issue_api_key, parse_api_key, secret_matches


def test_an_issued_key_parses_back_and_matches_only_its_own_hash():
    issued = issue_api_key()
    parsed = parse_api_key(issued.token)
    assert parsed is not None
    key_id, secret = parsed
    assert key_id == issued.key_id
    assert secret_matches(secret, issued.secret_hash)
    assert not secret_matches(secret + "x", issued.secret_hash)
    assert not secret_matches(secret, issue_api_key().secret_hash)


def test_the_stored_hash_does_not_contain_the_secret():
    issued = issue_api_key()
    parsed = parse_api_key(issued.token)
    assert parsed is not None
    # The whole secret, which may itself contain "_": a fragment after the last one can be a single hex digit.
    assert parsed[1] not in issued.secret_hash


def test_malformed_tokens_are_not_keys():
    for token in ["", "fsk_", "fsk_nothex_secret", "abc_" + "0" * 32 + "_s", "fsk_" + "0" * 32]:
        assert parse_api_key(token) is None
