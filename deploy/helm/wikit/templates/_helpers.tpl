{{/* Labels that select the webhook's pods. */}}
{{- define "wikit.webhook.selectorLabels" -}}
app.kubernetes.io/name: wikit
app.kubernetes.io/component: webhook
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{/* Labels of every webhook object. */}}
{{- define "wikit.webhook.labels" -}}
{{ include "wikit.webhook.selectorLabels" . }}
app.kubernetes.io/part-of: wikit
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | quote }}
{{- end }}

{{/* metadata.name, namespace and labels of a namespaced webhook object; call with (list $ name). */}}
{{- define "wikit.webhook.metadata" -}}
{{- $root := index . 0 -}}
name: {{ index . 1 | quote }}
namespace: {{ $root.Release.Namespace | quote }}
labels:
  {{- include "wikit.webhook.labels" $root | nindent 2 }}
{{- end }}

{{/* An int-or-string value (a count or a percentage). */}}
{{- define "wikit.intOrString" -}}
{{- if kindIs "string" . }}{{ . | quote }}{{ else }}{{ . }}{{ end }}
{{- end }}

{{/* Fails rendering with the upstream chart's message when no tenant is given. */}}
{{- define "wikit.azureTenantID" -}}
{{- required "A valid .Values.azureTenantID entry required!" .Values.azureTenantID -}}
{{- end }}
