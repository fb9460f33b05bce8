from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """Sends our Content-Security-Policy on every response that lacks one.

    Django 5.2 has no built-in CSP; the policy is strict (self only, no inline
    script) because every script and style we serve is a static file.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
