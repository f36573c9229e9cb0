# The faultline fault proxy (and CLI) as an image: what `faultline plan`'s
# docker-compose.chaos.yaml builds as ghcr.io/faultline/faultline-proxy:<version>.
#
# It builds from either faultline's repository (src/ present: compiled here from the lock file)
# or the installed npm package (node_modules/faultline: dist/ already compiled), so a project
# that installed faultline needs nothing else:
#   docker build -t ghcr.io/faultline/faultline-proxy:0.1.0 node_modules/faultline
#   docker run --rm -p 127.0.0.1:8474:8474 ghcr.io/faultline/faultline-proxy:0.1.0
FROM node:22-alpine AS build
WORKDIR /src
COPY . .
RUN if [ -d src ]; then npm ci --no-audit --no-fund && npm run build; fi

FROM node:22-alpine
WORKDIR /opt/faultline
COPY --from=build /src/package*.json ./
COPY --from=build /src/dist ./dist
# Production dependencies only; no install scripts run.
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
USER node
EXPOSE 8474
ENTRYPOINT ["node", "/opt/faultline/dist/cli/main.js"]
CMD ["proxy", "serve", "--host", "0.0.0.0", "--port", "8474"]
