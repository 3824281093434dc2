"""Variables the GOV.UK page template expects on every page."""


def govuk_template(request):
    # Reading request.csp_nonce makes django-csp add the nonce to this response's policy.
    # The GOV.UK template has an inline script on every page, so every page needs the nonce.
    nonce = getattr(request, "csp_nonce", None)
    return {"cspNonce": str(nonce) if nonce is not None else "", "assetPath": "/assets"}
