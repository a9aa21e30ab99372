"""The hotline: residents phone in, speak or press keys, and the same engine answers them.

call.py      what the flow sees of a call: prompts out; keys, speech or silence in; transfer; hang-up
framed.py    that abstraction over raw 8 kHz frames (VAD end-of-speech, barge-in, DTMF queue)
sip.py       the SIP endpoint on baresip-python (thin wrapper: the library is alpha)
agi.py       a FastAGI server (panoramisk) for sites whose switch is Asterisk/FreePBX
hotline.py   the per-process pieces: engine, speech, recognizer, caller binding, call limit
flow.py      the call flow state machine driving the engine
"""
