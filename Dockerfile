# One image for web (uvicorn; Daphne stays for `make run`), worker and beat (Celery); configured by
# environment alone (docker-compose.yml passes .env, a copy of .env.example).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput
EXPOSE 8000
# uvicorn, one process per core (WEB_CONCURRENCY), measured in bench/README.md "Voice relay":
# at 100 calls with 40 ms frames it adds ~1 ms p50, where one Daphne process saturates; with the
# sans-I/O websockets and no per-message deflate (audio does not compress; browsers ask for it) one
# process holds 200 (bench/README.md, "200 calls").
# --proxy-headers so the per-address call limits see the caller, not the load balancer.
ENV WEB_CONCURRENCY=2
CMD ["uvicorn", "ava.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--ws", "websockets-sansio", "--ws-per-message-deflate", "false", "--loop", "uvloop", "--proxy-headers"]
