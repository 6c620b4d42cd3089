// "Send a test call": a sample card on this screen only, so a venue can check its screens,
// sound and notifications without a phone. Nothing is sent to the server.

function isoSecondsAgo(seconds) {
  return new Date(Date.now() - seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

export function sampleCard() {
  const day = 86400;
  return {
    call_sid: `TEST-${Date.now()}`,
    status: "ringing",
    from: "+14155550134",
    caller_kind: "number",
    caller: {
      display: "(415) 555-0134",
      region: "US",
      country: "United States",
      place: "San Francisco, CA",
      line_type: "landline or mobile",
      carrier: "",
    },
    to: null,
    line: null,
    greeting: "Welcome back, Ms. Example",
    customer: {
      id: 0,
      name: "Sam Example",
      salutation: "Ms.",
      preferred_name: "",
      notes: "This is a test card: real calls appear like this, with the caller's own notes.",
      preferences: "Window table; sparkling water.",
      alerts: "Nut allergy (a test alert: real ones show here, in red).",
      pronunciation: "",
      tags: ["test", "regular"],
      vip: true,
      do_not_greet: false,
      occasion: "Birthday in 3 days",
      numbers: ["+14155550134"],
      calls_count: 2,
      last_call_at: isoSecondsAgo(6 * day),
      recent_calls: [
        {
          call_sid: "TEST-A",
          received_at: isoSecondsAgo(6 * day),
          status: "completed",
          is_missed: false,
          outcome: "booking",
          answered_by: "Anna",
          notes: ["Table for four, Friday 8 pm."],
        },
        {
          call_sid: "TEST-B",
          received_at: isoSecondsAgo(20 * day),
          status: "no-answer",
          is_missed: true,
          outcome: "",
          answered_by: "",
          notes: [],
        },
      ],
    },
    also: [],
    received_at: isoSecondsAgo(0),
    answered_at: null,
    ended_at: null,
    answered_by: "",
    is_missed: false,
    duration: null,
    outcome: "",
  };
}
