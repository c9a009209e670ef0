# syntax=docker/dockerfile:1
# ConvService container: the SDK image builds and publishes; the ASP.NET runtime image runs only
# the published output as the non-root `app` user.
#   docker build -t convservice:latest .
#   docker run --rm -p 8080:8080 -p 8081:8081 convservice:latest

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Build settings and project files first: the restore layer is reused until one of them changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ConvService.Compute/ConvService.Compute.csproj src/ConvService.Compute/
COPY src/ConvService.Api/ConvService.Api.csproj src/ConvService.Api/
# The restore `dotnet publish` does (ReadyToRun for the build platform, see ConvService.Api.csproj), so this
# layer also holds the runtime and crossgen packs and the publish below restores nothing.
RUN dotnet restore src/ConvService.Api/ConvService.Api.csproj -p:_IsPublishing=true
# The contract and the sources; publish restores again, a no-op unless a project was added since.
COPY protos/ protos/
COPY src/ src/
RUN dotnet publish src/ConvService.Api/ConvService.Api.csproj -c Release -o /app/publish

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
WORKDIR /app
COPY --from=build --chown=root:root /app/publish ./
# REST/JSON + /healthz + /readyz + /metrics on 8080 (HTTP/1.1); gRPC h2c on 8081. Both bound on all
# interfaces inside the container; appsettings.json binds localhost for local runs.
# ASPNETCORE_HTTP_PORTS is emptied so the image's default (8080) does not compete with the
# configured Kestrel endpoints.
ENV ASPNETCORE_HTTP_PORTS= \
    Kestrel__Endpoints__Rest__Url=http://0.0.0.0:8080 \
    Kestrel__Endpoints__Grpc__Url=http://0.0.0.0:8081 \
    DOTNET_gcServer=1 \
    DOTNET_GCDynamicAdaptationMode=1 \
    OTEL_SERVICE_NAME=convservice
# Server GC with DATAS (dynamic adaptation): heaps grow with load instead of one heap per core up
# front, so a replica under a small CPU/memory limit keeps a small footprint; the runtime already
# reads the cgroup CPU and memory limits (heap hard limit 75% of the memory limit).
EXPOSE 8080 8081
USER $APP_UID
# The runtime image has neither curl nor wget: bash's /dev/tcp sends the GET and the status line
# must say 200.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "ConvService.Api.dll"]
