"""How to deploy and roll back on the store's host, in the host's own terms. Pure.

The handover document shows the consultant's own steps first, then these for the
hosting provider the ownership inventory records (or, failing that, the one the audit
detected). Unknown hosts get the generic steps.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HostingGuide:
    slug: str
    name: str
    deploy: tuple[str, ...]
    rollback: tuple[str, ...]
    docs_url: str = ""


GUIDES: dict[str, HostingGuide] = {
    g.slug: g
    for g in (
        HostingGuide(
            slug="vercel",
            name="Vercel",
            deploy=(
                "Merge into the production branch: Vercel builds it and puts it live.",
                "From a laptop: `vercel --prod` in the project folder.",
            ),
            rollback=(
                "Vercel dashboard → the project → Deployments: find the last deployment that worked.",
                "Open its menu and choose “Instant Rollback” (or run `vercel rollback`).",
                "Auto-deploys of new commits pause after a rollback: promote a fixed deployment to resume.",
            ),
            docs_url="https://vercel.com/docs/instant-rollback",
        ),
        HostingGuide(
            slug="netlify",
            name="Netlify",
            deploy=(
                "Merge into the production branch: Netlify builds it and publishes it.",
                "From a laptop: `netlify deploy --prod`.",
            ),
            rollback=(
                "Netlify → the site → Deploys: open the last deploy that worked.",
                "Choose “Publish deploy”: it goes live again within seconds.",
                "Lock publishing if the next push must not go live automatically.",
            ),
            docs_url="https://docs.netlify.com/site-deploys/manage-deploys/",
        ),
        HostingGuide(
            slug="shopify",
            name="Shopify",
            deploy=(
                "Before changing the live theme, duplicate it (Online Store → Themes → … → Duplicate).",
                "Edit the copy, preview it, then publish it.",
            ),
            rollback=(
                "Online Store → Themes → Theme library: find the previous theme.",
                "Choose “Publish”: the old theme is live again at once.",
                "App and settings changes are not part of a theme: undo them by hand.",
            ),
            docs_url="https://help.shopify.com/en/manual/online-store/themes/managing-themes",
        ),
        HostingGuide(
            slug="heroku",
            name="Heroku",
            deploy=("`git push heroku main`, or merge with the GitHub integration's automatic deploys.",),
            rollback=(
                "`heroku releases` lists the releases; find the last one that worked.",
                "`heroku rollback v123` puts that release's code and config live again.",
                "It does not undo database migrations: roll those back on their own, or restore a backup.",
            ),
            docs_url="https://devcenter.heroku.com/articles/releases",
        ),
        HostingGuide(
            slug="render",
            name="Render",
            deploy=("Merge into the connected branch (auto-deploy), or “Manual Deploy” in the dashboard.",),
            rollback=(
                "Render → the service → Events: find the last successful deploy.",
                "Choose “Rollback” next to it.",
                "Turn auto-deploy off until the fix is merged, or the next push deploys again.",
            ),
            docs_url="https://render.com/docs/rollbacks",
        ),
        HostingGuide(
            slug="fly",
            name="Fly.io",
            deploy=("`fly deploy` from the project folder (or the CI job that runs it).",),
            rollback=(
                "`fly releases --image` lists the releases with their images.",
                "`fly deploy --image <image of the last good release>` puts it live again.",
            ),
            docs_url="https://fly.io/docs/flyctl/releases/",
        ),
        HostingGuide(
            slug="cloudflare_pages",
            name="Cloudflare Pages",
            deploy=(
                "Merge into the production branch: Pages builds and publishes it.",
                "From a laptop: `wrangler pages deploy <build folder>`.",
            ),
            rollback=(
                "Cloudflare dashboard → Workers & Pages → the project → Deployments.",
                "Open the last production deployment that worked and choose “Rollback to this deployment”.",
            ),
            docs_url="https://developers.cloudflare.com/pages/configuration/rollbacks/",
        ),
    )
}

GENERIC = HostingGuide(
    slug="generic",
    name="Any host",
    deploy=(
        "Deploy from a tagged commit with the same pipeline every time, and note the version.",
        "Report the deploy to Launch Ready so the smoke test checks the store right after it.",
    ),
    rollback=(
        "Find the last known good version (the deploy history on the site page).",
        "Deploy that version with the same pipeline.",
        "Database migrations are not undone by a redeploy: reverse them or restore a backup.",
    ),
)

# Names a consultant may type in the inventory, and how the detection names hosts.
_ALIASES = {
    "cloudflare pages": "cloudflare_pages",
    "pages.dev": "cloudflare_pages",
    "fly.io": "fly",
}


def guide_for(*names: str) -> HostingGuide:
    """The guide for the first name that matches a known host ("Vercel", "fly", a slug, a CNAME
    "x.pages.dev"); the generic guide when none does."""
    for name in names:
        text = (name or "").strip().lower()
        if not text:
            continue
        for alias, slug in _ALIASES.items():
            if alias in text:
                return GUIDES[slug]
        for slug, guide in GUIDES.items():
            if text in (slug, guide.name.lower()) or guide.name.lower() in text:
                return guide
    return GENERIC
