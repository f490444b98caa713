"""Render an AXRP markdown post the way axrp.net serves it (kramdown + theme minima), for tests.

The live page is kramdown's output inside minima's post layout; markdown-it (CommonMark, raw HTML
allowed so ``<a name>`` anchors survive) gives the same block structure: ``<h2>`` headings with the
anchor inside, ``<p><strong>Name:</strong>`` speaker paragraphs, ``<a href>`` links.
"""

from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt


def render_post_html(markdown: str) -> str:
    text = markdown.replace("\r\n", "\n")
    title = "AXRP episode"
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        m = re.search(r"^title:\s*\"?(.*?)\"?\s*$", text[4:end], re.M)
        if m:
            title = m.group(1)
        text = text[end + 4 :].split("\n", 1)[1]
    md = MarkdownIt("commonmark")
    body = md.render(text)
    # kramdown gives headings ids; mimic it so the page looks like the live one.
    body = re.sub(
        r"<h([2-6])>(.*?)</h\1>",
        lambda m: (
            f'<h{m.group(1)} id="{re.sub(r"[^a-z0-9]+", "-", m.group(2).lower())[:40]}">'
            f"{m.group(2)}</h{m.group(1)}>"
        ),
        body,
    )
    t = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{t} | AXRP</title>
<link rel="stylesheet" href="/assets/main.css"></head>
<body><header class="site-header" role="banner"><div class="wrapper">
<a class="site-title" rel="author" href="/">AXRP - the AI X-risk Research Podcast</a>
<nav class="site-nav"><ul><li><a href="/about/">About</a></li></ul></nav></div></header>
<main class="page-content" aria-label="Content"><div class="wrapper">
<article class="post h-entry" itemscope itemtype="http://schema.org/BlogPosting">
<header class="post-header"><h1 class="post-title p-name" itemprop="name headline">{t}</h1>
<p class="post-meta"><time class="dt-published">Feb 3, 2023</time></p></header>
<div class="post-content e-content" itemprop="articleBody">
{body}
</div><a class="u-url" href="/episode/" hidden></a></article></div></main>
<footer class="site-footer h-card"><div class="wrapper"><ul><li>Daniel Filan</li></ul>
<p>Subscribe: <a href="/feed.xml">via RSS</a></p></div></footer></body></html>
"""
