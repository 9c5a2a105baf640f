FROM python:3.11-slim-bookworm
# WeasyPrint needs Pango; fonts for the register PDFs.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home app
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY web web
COPY workers workers
COPY tasks tasks
COPY migrations migrations
COPY babel.cfg ./
COPY bin/translations bin/translations
# Compile the catalogues (.po in the repo → .mo) before the install copies web/ into the image's packages.
RUN pip install --no-cache-dir Babel && PYBABEL=pybabel bin/translations compile \
    && pip install --no-cache-dir ".[monitoring]"
USER app
ENV APP_ENV=production INSTANCE_DIR=/data STORAGE_DIR=/data/private
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--limit-request-line", "8190", "--workers", "3", "--threads", "4", "web:create_app()"]
