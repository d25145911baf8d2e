/* spandsp_inc.h: SpanDSP's headers in the order they need (telephony.h defines SPAN_DECLARE). */
#ifndef TT_SPANDSP_INC_H
#define TT_SPANDSP_INC_H

#include <stdbool.h>
#include <stdint.h>
#include <spandsp/telephony.h>
#include <spandsp/g711.h>
#include <spandsp/g722.h>
#include <spandsp/plc.h>
#include <spandsp/private/g722.h>

#endif
