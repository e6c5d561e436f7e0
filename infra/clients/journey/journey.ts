// A customer's and an admin's journey through the client generated from infra/openapi.json: compiled with
// `tsc --strict` (never run) by tests/infra/test_generated_clients.py, so a spec change that breaks a
// generated client's types fails the build.
import createClient from "openapi-fetch";
import type { components, paths } from "./api";

type JobRun = components["schemas"]["JobRunResult"];
type ServiceActionResult = components["schemas"]["ServiceActionResult"];

export async function customerJourney(baseUrl: string, token: string): Promise<string[]> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
  const services = await api.GET("/api/customer/services");
  const names: string[] = (services.data ?? []).map((service) => `${service.id} ${service.status}`);
  const invoices = await api.GET("/api/customer/invoices", { params: { query: { cursor: undefined } } });
  for (const invoice of invoices.data?.items ?? []) {
    const one = await api.GET("/api/customer/invoices/{invoice_id}", {
      params: { path: { invoice_id: invoice.id } },
    });
    const total: string | undefined = one.data?.total_amount;
    if (total !== undefined) names.push(total);
  }
  return names;
}

export async function adminJourney(baseUrl: string, token: string, serviceId: string): Promise<string> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
  const suspended = await api.POST("/api/admin/services/{service_id}/suspend", {
    params: { path: { service_id: serviceId }, header: { "Idempotency-Key": "journey-suspend-1" } },
    body: { suspension_type: "technical", reason: "Line fault" },
  });
  // 200 and 202 both carry the action's result
  const result: ServiceActionResult | undefined = suspended.data;
  const run = await api.POST("/api/cron/generate-invoices", { body: { run_date: "2026-12-01" } });
  const job: JobRun | undefined = run.data;
  const status: string | undefined = run.data?.status;
  // a credit note's body is a oneOf on `mode`: the amount variant needs its amount
  const note = await api.POST("/api/admin/invoices/{invoice_id}/credit-note", {
    params: { path: { invoice_id: serviceId } },
    body: { mode: "amount", amount: "100.00", reason: "Outage" },
  });
  const creditNoteNumber: string | undefined = note.data?.credit_note.invoice_number;
  if (creditNoteNumber === undefined && note.error) return note.error.detail;
  if (run.error) return `${run.error.title}: ${run.error.detail}`;
  return `${result?.service.status ?? "?"} ${job?.id ?? ""} ${status ?? ""}`;
}
