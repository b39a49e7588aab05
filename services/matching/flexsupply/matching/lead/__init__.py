"""The group leader's console (/lead) and the members' sign-up page (/signup/{token}): server-rendered pages over
the JSON API's own use cases."""
