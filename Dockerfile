# One image for every process of compose.yaml; the command picks the part.
FROM python:3.11-slim
RUN python -m pip install --no-cache-dir "uv>=0.13,<0.14"
ENV UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1
WORKDIR /app
COPY . .
RUN uv sync --all-packages --frozen --no-dev
ENV PATH=/app/.venv/bin:$PATH
RUN useradd --create-home flexsupply
USER flexsupply
CMD ["flexsupply", "--help"]
