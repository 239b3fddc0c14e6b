#!/usr/bin/env bash
# A quarter of release planning for four management groups, entered through the CLI as the
# people themselves would. Sourced by scripts/demo, which sets RELPLAN (the binary), the
# connection, and a login name per person (ADMIN, ALICE, BOB, ERIK, CAROL, VIKTOR).
#
# The dates start at the next Saturday, so the demo plans ahead whenever it runs. The plan has
# deliberate collisions for the scheduler to find and resolve: a full window, two releases
# changing the same server, a shared test environment booked twice, a deployment in the
# year-end freeze, and a release planned before the one it depends on.
set -euo pipefail

as() { local who="$1"; shift; PGUSER="$who" "$RELPLAN" "$@"; }
day() { date -u -d "$FIRST_SATURDAY + $1 days" +%F; }   # a day counted from the first Saturday
window() { echo "SW-$(day "$1")"; }                       # the weekly window on that Saturday

FIRST_SATURDAY="$(date -u -d 'next saturday' +%F)"
TZ_NAME="Europe/Stockholm"
YEAR_END="$(date -u -d "$FIRST_SATURDAY" +%Y)"

# --- The admin sets up the shared calendar -------------------------------------------------
as "$ADMIN" group create CRM --name "CRM förvaltning"
as "$ADMIN" group create HR --name "HR & lön"
as "$ADMIN" group create WEB --name "Webb och e-handel"
as "$ADMIN" group create LÖN --name "Lön och förmåner"   # codes are written as people write them
as "$ADMIN" member add CRM "$ALICE" --role release-manager
as "$ADMIN" member add CRM "$CAROL" --role member
as "$ADMIN" member add HR "$BOB" --role release-manager
as "$ADMIN" member add HR "$VIKTOR" --role viewer
as "$ADMIN" member add WEB "$ERIK" --role release-manager
as "$ADMIN" member add LÖN "$BOB" --role release-manager

as "$ADMIN" env create TEST-INT --name "Integration test (shared)" --kind test --capacity 1
as "$ADMIN" env create PREPROD --name "Pre-production (shared)" --kind preprod --capacity 2
as "$ADMIN" env create PROD --name "Production" --kind prod --capacity 10

# Weekly Saturday-night windows for the quarter, 22:00-02:00 Stockholm time, three releases each.
as "$ADMIN" window generate --prefix SW --rrule "FREQ=WEEKLY;BYDAY=SA" --start-time 22:00 --duration 4h \
  --from "$(day 0)" --until "$(day 90)" --capacity 3 --tz "$TZ_NAME"
# A smaller extra window on a Wednesday, for urgent fixes.
as "$ADMIN" window create "EXTRA-$(day 18)" --start "$(day 18) 20:00" --end "$(day 18) 23:00" --capacity 1 --kind extra --tz "$TZ_NAME"
as "$ADMIN" freeze create YEAR-END --start "$YEAR_END-12-20" --end "$((YEAR_END + 1))-01-07" --reason "Year-end closing" --tz "$TZ_NAME"
as "$ADMIN" freeze create PAYROLL-RUN --start "$(day 25) 00:00" --end "$(day 29) 00:00" --reason "Monthly payroll run" --tz "$TZ_NAME"
as "$ADMIN" model create --file "$EXAMPLES/models/standard.yaml"
as "$ADMIN" target link crm-api --part-of srv-crm-01
as "$ADMIN" target link crm-db --part-of srv-crm-01

# --- CRM plans its quarter ------------------------------------------------------------------
as "$ALICE" plan create CRM CRM-Q --title "CRM quarter plan" --change-ref CHG-1234 --model STANDARD
as "$ALICE" plan stakeholder add CRM/CRM-Q "Sales operations" --role business-owner
as "$ALICE" release create CRM R-1 --plan CRM-Q --title "Customer merge" --window "$(window 7)" --priority 2
as "$ALICE" release create CRM R-2 --plan CRM-Q --title "New quote flow" --window "$(window 28)" --priority 3
as "$CAROL" package add CRM/R-1 core
as "$CAROL" unit add CRM/R-1 core crm-api --kind application --target crm-api --version 4.2.0
as "$CAROL" package add CRM/R-2 core
as "$CAROL" unit add CRM/R-2 core crm-db --kind database --target crm-db --version 4.3.0
as "$ALICE" book CRM/R-1 TEST-INT --start "$(day 1) 08:00" --end "$(day 4) 17:00" --tz "$TZ_NAME"
as "$ALICE" book CRM/R-1 PREPROD --start "$(day 5) 08:00" --end "$(day 5) 12:00" --tz "$TZ_NAME"
as "$ALICE" book CRM/R-2 TEST-INT --start "$(day 20) 08:00" --end "$(day 23) 17:00" --tz "$TZ_NAME"
as "$ALICE" book CRM/R-2 PREPROD --start "$(day 24) 08:00" --end "$(day 24) 12:00" --tz "$TZ_NAME"
as "$ALICE" release assign CRM/R-1 --implementer carol

# --- HR plans payroll changes ---------------------------------------------------------------
as "$BOB" plan create HR PAY --title "Payroll maintenance" --change-ref CHG-2001
as "$BOB" release create HR PAY-7 --plan PAY --title "Tax tables" --window "$(window 7)" --priority 1 --deadline "$(day 20)"
as "$BOB" package add HR/PAY-7 tables
# The payroll export runs on the CRM server: changing it collides with CRM's crm-api change.
as "$BOB" unit add HR/PAY-7 tables payroll-export --kind update --target srv-crm-01 --version 7.0.1
# The same shared test environment, overlapping CRM's booking.
as "$BOB" book HR/PAY-7 TEST-INT --start "$(day 3) 08:00" --end "$(day 5) 17:00" --tz "$TZ_NAME"
# Planned before the CRM release it needs.
as "$BOB" release create HR PAY-8 --plan PAY --title "Pay slips via CRM" --window "$(window 21)" --priority 4 --depends-on CRM/R-2

# --- WEB ------------------------------------------------------------------------------------
as "$ERIK" plan create WEB SHOP --title "Web shop"
as "$ERIK" release create WEB SHOP-12 --plan SHOP --title "Checkout redesign" --window "$(window 7)" --priority 3
as "$ERIK" release create WEB SHOP-13 --plan SHOP --title "Campaign pages" --window "$(window 7)" --priority 5
as "$ERIK" release create WEB SHOP-14 --plan SHOP --title "Search tuning" --window "$(window 28)" --priority 4
as "$ERIK" package add WEB/SHOP-12 web
as "$ERIK" unit add WEB/SHOP-12 web shop-frontend --kind application --target shop-web --version 12.0.0

# --- LÖN: the payroll system's year-end change, in Swedish ---------------------------------
as "$BOB" plan create LÖN Lönesystem-2027 --title "Lönesystemet 2027"
as "$BOB" release create LÖN Årsskifte-2027 --plan Lönesystem-2027 --title "Skattetabeller för 2027" \
  --window "$(window 49)" --priority 2
as "$BOB" package add LÖN/Årsskifte-2027 kärna
as "$BOB" unit add LÖN/Årsskifte-2027 kärna lön-api --kind application --target srv-lön-01 --version 2027.1
