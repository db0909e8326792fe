# Builds emberd and runs it.
#
#   docker build -t ember .
#   docker run --shm-size=2g -p 6379:6379 ember
#
# Arenas live in the container's /dev/shm, which Docker sizes at 64 MiB by
# default: give it room with --shm-size.  They survive worker crashes and
# restarts of emberd inside the container, not the container itself.
FROM debian:12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        build-essential pkg-config libevent-dev liburcu-dev libxxhash-dev \
        libzstd-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" all && make install DESTDIR=/out PREFIX=/usr

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
        libevent-core-2.1-7 libevent-pthreads-2.1-7 liburcu8 libxxhash0 libzstd1 \
        && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /
RUN mkdir -p /data
EXPOSE 6379
VOLUME /data
ENTRYPOINT ["/usr/sbin/emberd"]
CMD ["--bind", "0.0.0.0", "--dir", "/data"]
