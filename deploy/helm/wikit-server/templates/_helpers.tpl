{{- /* Names, labels and the settings derived from several values, shared by the templates. */ -}}

{{- define "wikit-server.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "wikit-server.selectorLabels" -}}
app.kubernetes.io/name: wikit
app.kubernetes.io/component: server
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{- define "wikit-server.labels" -}}
{{ include "wikit-server.selectorLabels" . }}
app.kubernetes.io/part-of: wikit
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | quote }}
{{- end -}}

{{- define "wikit-server.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "wikit-server.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- /* publicUrl's host name, without a port: the certificate's first DNS name. */ -}}
{{- define "wikit-server.publicHost" -}}
{{- regexReplaceAll ":[0-9]+$" (urlParse .Values.publicUrl).host "" | lower -}}
{{- end -}}

{{- define "wikit-server.vaultDomain" -}}
{{- default (printf "vault.%s" (include "wikit-server.publicHost" .)) .Values.vaultDomain | lower -}}
{{- end -}}

{{- define "wikit-server.appConfigDomain" -}}
{{- default (printf "azconfig.%s" (include "wikit-server.publicHost" .)) .Values.appConfigDomain | lower -}}
{{- end -}}

{{- /* The Secret holding the serving certificate: cert-manager's (named by default) or the given one. */ -}}
{{- define "wikit-server.tlsSecretName" -}}
{{- if .Values.tls.certManager.enabled -}}
{{- default (printf "%s-tls" (include "wikit-server.fullname" .)) .Values.tls.secretName -}}
{{- else -}}
{{- .Values.tls.secretName -}}
{{- end -}}
{{- end -}}

{{- /*
Settings without a default, all reported at once, each with what to give. values.schema.json checks the shape of
what is given; these are left empty in values.yaml because only the installer knows them.
*/ -}}
{{- define "wikit-server.checkRequired" -}}
{{- $missing := list -}}
{{- if not .Values.store.url -}}
{{- $missing = append $missing "store.url: the PostgreSQL database the replicas share, postgres://USER@HOST:PORT/DB" -}}
{{- end -}}
{{- if not .Values.publicUrl -}}
{{- $missing = append $missing "publicUrl: the https URL clients reach the server by, e.g. https://wikit.example.test" -}}
{{- end -}}
{{- if not .Values.secretKeyRing.existingSecret -}}
{{- $missing = append $missing "secretKeyRing.existingSecret: the Secret holding the key ring (kubectl create secret generic <name> --from-file=secret-keys.json; values.yaml says how to make the file)" -}}
{{- end -}}
{{- if not .Values.adminToken.existingSecret -}}
{{- $missing = append $missing "adminToken.existingSecret: the Secret holding the admin credential (kubectl create secret generic <name> --from-file=admin-token)" -}}
{{- end -}}
{{- if and .Values.tls.certManager.enabled (not .Values.tls.certManager.issuerRef.name) -}}
{{- $missing = append $missing "tls.certManager.issuerRef.name: the Issuer or ClusterIssuer that signs the serving certificate (it must be able to sign a wildcard name)" -}}
{{- else if and (not .Values.tls.certManager.enabled) (not .Values.tls.secretName) -}}
{{- $missing = append $missing "tls.secretName: an existing kubernetes.io/tls Secret (kubectl create secret tls <name> --cert=server.crt --key=server.key), or tls.certManager.enabled=true with tls.certManager.issuerRef.name" -}}
{{- end -}}
{{- with $missing -}}
{{- fail (printf "wikit-server needs these values:\n- %s" (join "\n- " .)) -}}
{{- end -}}
{{- end -}}
