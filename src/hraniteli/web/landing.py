"""`GET /`: a small public page pointing a newcomer at the docs, the health check and the cards."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from hraniteli import __version__

router = APIRouter()

# Public and the same for everyone: no settings, no data, nothing private.
PAGE = f"""<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Хранители</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}
code{{background:#f2f2f2;padding:0 .2rem}}</style>
</head>
<body>
<h1>Хранители</h1>
<p>Сервис онлайн-практики психологов: расписания, заявки, записи на сессии.
Версия {__version__}.</p>
<ul>
<li><a href="/docs">/docs</a> — документация API (Swagger UI)</li>
<li><a href="/redoc">/redoc</a> — та же документация (ReDoc)</li>
<li><a href="/healthz">/healthz</a> — проверка, что сервис работает</li>
<li><a href="/cards">/cards</a> — карточки психологов для каталога</li>
</ul>
<p>Ссылки на редакторы расписания демо-психологов и ключ администратора демо печатает в консоль
команда <code>hraniteli serve --demo</code> (её запускает <code>make run</code>).</p>
</body>
</html>
"""


@router.get("/", include_in_schema=False, response_class=HTMLResponse)
async def landing() -> HTMLResponse:
    return HTMLResponse(PAGE)
