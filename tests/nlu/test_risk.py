"""The risk layer on its own (nlu/lexicon/risk.yaml): cues composed from parts, and the negation, hedge,
past-tense and framing rules that keep stories, plans and jokes from raising an alarm."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.risk import EMERGENCY, SUSPECTED, RiskLayer, RiskLexicon

LEXICON = Path(__file__).resolve().parents[2] / "nlu" / "lexicon" / "risk.yaml"


@pytest.fixture(scope="module")
def risk() -> RiskLayer:
    return RiskLayer(RiskLexicon.load(LEXICON))


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("我男人又动手了，把我脑壳打破了", "violence"),
        ("有人在撬我家的门", "intruder"),
        ("老人家喘不上气，嘴唇都紫了", "medical"),
        ("电线在冒火花，墙都烫了", "electric"),
        ("小孩把手卡在门缝里拔不出来了", "trapped"),
        ("厨房里煤气味好大", "gas"),
        # a pipe dug open and gas blowing out: no 漏 or 味 said
        ("施工队把燃气管挖破了，正在呼呼往外喷", "gas"),
        # a threat to jump said with a place that is not in the old list (凉台 is a balcony)
        ("这日子过不下去了 我就从凉台上跳下去 哪个都莫管我", "self_harm"),
        ("我明天就从楼顶跳下去", "self_harm"),
        # words split by spaces, as a resident without punctuation types them
        ("想跳 楼顶", "self_harm"),
        # signs described, not named: blood coughed up, a face dropping, someone lying still
        ("我妈刚才咳了一大口血，人有点迷糊", "medical"),
        ("我爸嘴巴一下歪了，话都说不清楚", "medical"),
        ("有个人在路边躺着不动", "medical"),
        ("那个男的拿皮带往她身上抽", "violence"),
        ("有个生人在我屋头翻东西", "intruder"),
        # coal smoke and a headache: carbon monoxide, whichever is said first
        ("我婆婆屋头烧的蜂窝煤，她说头晕想吐", "gas"),
        ("她说头晕想吐，屋头烧的蜂窝煤，门窗都关着", "gas"),
        ("地下车库进水了，水都淹到腰了", "trapped"),
        ("外墙砖掉下来砸中了一个路过的老人", "structural"),
        # a farewell in two halves; 以后 looking ahead is not the past
        ("钥匙放在门口地垫下面，以后不用来看我了", "self_harm"),
        ("绳子都准备好了，以后也用不着你们了", "self_harm"),
        # 今天就不落屋了 is not 落屋了 (home again)
        ("活起没得啥子意思了 今天就不落屋了", "self_harm"),
        # an unpunctuated message that turns to something else: the earlier 上次 is not this clause's
        ("上次那个证明开好没有啊等一下楼下出事了快叫人", "alarm"),
        # nobody seen for days is a sign only beside another
        ("三天没看到隔壁婆婆了，敲门也没人应", "alarm"),
        # someone climbing in mid-message, a score to settle tonight, a farewell as relief
        ("楼道灯啥时候修 等等 有个人从窗户爬进来了", "intruder"),
        ("他们说今晚就来我家算账", "violence"),
        ("想了好久还是觉得走了好，莫找我", "self_harm"),
        # pushed down the steps mid-question; an old woman lying still
        ("物业费咋个算 哦对了楼下那个男的刚把他妈推下梯坎了", "violence"),
        ("老人家躺起没动", "medical"),
        # a threat to die together or to hurt someone who leaves; a fit with a high fever
        ("他说要跟我同归于尽", "violence"),
        ("我男朋友说我敢走就弄我", "violence"),
        ("我妈发烧四十度，抽筋了", "medical"),
        ("家里的燃气报警器一直在响", "gas"),
        # writers I and J read: a window guard pried, watching TV when it began, a child gone a while,
        # an old man out for hours without his phone, a farewell from a roof, a hoarding over people
        ("有个人在撬我家窗子外面的防盗网", "intruder"),
        ("我在家看电视，突然闻到好大的烟味，楼道里都烧起来了", "fire"),
        ("我家小孙子在小区里跑着跑着就不见了，找了一个钟头了", "missing"),
        ("我爸出门遛弯，五个钟头了，手机也没带", "missing"),
        ("我弟刚发消息跟我告别，说他在楼顶上", "self_harm"),
        ("工地那块广告牌晃得厉害，下面全是等车的学生", "structural"),
        ("有两个人翻墙进了隔壁婆婆家院子", "intruder"),
        ("她在朋友圈发了像遗书一样的话", "self_harm"),  # 一样的话 is words, not a condition
        ("sos 5栋", "alarm"),
        ("救我", "alarm"),
        ("别说了 马上来 求求你们", "alarm"),
        # writers K and L read: flood water all round, a charcoal burner in a sealed room, a mind made up,
        # affairs written down, a short cry from a lift, 特别 (no 别 that denies), a stranger at the door
        ("发大水了，我们家被水围住了，爷爷奶奶在楼上出不去", "trapped"),
        ("屋里收拾好了，狗也送人了，炭盆端进卧室了，门缝都用胶带封死了", "self_harm"),
        ("我真的不想再撑下去了", "self_harm"),
        ("我把后事都写好了，存折在枕头底下", "self_harm"),
        ("关电梯 3栋 好闷", "trapped"),
        ("我在江边桥上，特别想跳下去", "self_harm"),
        ("门口有个不认识的男的站了好久，还在拧我的门把手", "intruder"),
        # writers M and N read: watching TV when it began, dementia named otherwise, nobody can get down,
        # thanks for the years with the children left in others' care, a bare 紧急！
        ("我刚刚在看电视，一个不认识的人躲在我家厨房", "intruder"),
        ("我爸有认知障碍，刚才在菜市场人就不见了", "missing"),
        ("我闺女昨天晚上出去，到现在都没回家", "missing"),
        ("楼梯塌了一截，我们这层的人都下不去", "trapped"),
        ("存折放在抽屉里了，以后我家娃就麻烦你们照顾", "self_harm"),
        ("紧急！需要帮助！", "alarm"),
        # writers O to R read: watching TV after dinner when it began, a charcoal fire and someone weak,
        # a man out since last night (since then, not then), leaving tonight so as not to be a burden,
        # help, a bare 火 with where, a smell with a headache, a father who always answers, 好几次 of
        # an inhaler (not a chronic matter), a hiss since the meter reader left
        ("吃完饭在看电视，吊灯突然掉下来砸到我爸头上", "structural"),
        ("婆婆在屋里烧炭盆取暖，窗户都关着，现在人软起了还吐了", "gas"),
        ("我老伴昨天下午出去打牌，到现在一直没回来，有没有人看到我家老汉", "missing"),
        ("我今天晚上就走了，不拖累你们了", "self_harm"),
        ("help 快来", "alarm"),
        ("火 电动车 一楼", "fire"),
        ("屋里有股怪味，我妈说头痛想吐", "gas"),
        ("我妈的药吃了好几次都喘不上气", "medical"),
        ("修燃气的走了以后我一直闻到嘶嘶声，满屋子都是煤气味", "gas"),
        # from writers S to X: people sick beside a gas appliance, thanks for years of care to anyone, no
        # more trouble after tonight, a slope sliding, a wall come down on people, a fall since yesterday,
        # an old man who ran off, a new matter after a thank-you, still unwell after coming round, a
        # figure of speech beside a real danger, at a loss whom to call
        ("家里几个人都头晕恶心，燃气灶一直开着", "gas"),
        ("谢谢网格员这些年照顾我，跟大家说声再见", "self_harm"),
        ("明天过后就不麻烦你们了，把欠大家的钱都还清了", "self_harm"),
        ("屋后头的坡坡在滑坡，泥巴往下冲", "structural"),
        ("隔壁的院墙倒下来了，底下有个老人", "structural"),
        ("我爸前天摔了一跤到现在还起不来", "medical"),
        ("我奶奶从医院自己跑出去了，有人看到没有", "missing"),
        ("水管修好了，谢谢。对了，楼下王婆婆刚刚倒在地上叫不醒", "medical"),
        ("我爸刚才被电了一下，人醒过来了，但是还是说胸口痛得很", "electric"),
        ("外面吵得要命，楼下的电动车烧起来了", "fire"),
        ("我妈倒在地上喊不应，我不知道该找谁", "medical"),
        # from writers Y to AB: a relative watching on video from afar, an appliance sparking, choking
        # that back blows do not clear, the same plea twice, a knife kept at hand and wanted today
        ("我在单位看监控，家里电暖器在冒火花，我妈还在睡", "electric"),
        ("爷爷吃糍粑噎住了，咳不出来，脸都憋紫了", "medical"),
        ("快来人 快来人", "alarm"),
        ("绳子我早就准备好了，今晚就想用它", "self_harm"),
        # from writers AC to AF: 怕是 means 'probably' (no hedge), a flame gone out and a smell, gas left on
        # and wanting to join a late wife, a fight heard with a weapon, a smell at a lone neighbour's door
        # and no answer, a mother who does not know the way looked for twice round, a new matter after
        # 但是现在, a wall still cracking after 还好没砸到人, 哪个来帮我 in dialect
        ("楼上的顶棚嘎吱嘎吱响，怕是要垮了，我妈还在下面", "structural"),
        ("做饭的时候火灭了，厨房一股怪味", "gas"),
        ("老婆走了两年了，我想去陪她了，燃气我已经拧开了", "self_harm"),
        ("楼下传来打斗声，有人拿了凶器", "violence"),
        ("李婆婆门口一股臭味，敲门半天没人开", "exposed"),
        ("找了两圈了还是没看到我爸，他今天糊里糊涂的，说要回老家", "missing"),
        ("前天报的水管修好了，但是现在楼道电线掉下来挨到铁门了，有小孩在旁边", "electric"),
        ("阳台塌了一块，还好没砸到人，可是墙还在裂，楼下有人", "structural"),
        ("哪个来帮哈我嘛 我起不来了", "alarm"),
        # from writers AG to AJ: gone in the blink of an eye, looked for by the river, a baby limp and pale
        # who cannot be roused, a swallowed button battery, a building about to fall said alone, a window
        # guard being cut, gas on and the doors and windows shut, a video call with a mother
        ("外孙女 菜市场 一转眼就不见了", "missing"),
        ("我家老头 没回 江边找了 没得", "missing"),
        ("宝宝刚才突然软了，脸发白，怎么叫都不醒", "medical"),
        ("娃儿吞了一颗纽扣电池", "medical"),
        ("房子要塌了", "structural"),
        ("窗户外头有人在剪防盗网的铁丝", "intruder"),
        ("活着太累了，燃气已经开了，门窗也关死了", "gas"),
        ("刚跟我爸视频，看到他倒在地上叫不应", "medical"),
        # from writers AK to AN: a robber in the home said in dialect, 喘不过来 (no 过 of the past), seen
        # on a camera by someone away, a resting cure asked about rather than told
        ("棒老二钻进屋头了", "intruder"),
        ("胸口好闷，左手发麻，喘不过来", "medical"),
        ("我妈喘不过来了", "medical"),
        ("我妈在阳台晕倒了，一动不动，我是监控里看到的，我在上班", "medical"),
        ("我头晕得站不稳，半边身子麻，是不是躺一下就好了", "medical"),
    ],
)
def test_a_live_danger_is_an_emergency(risk: RiskLayer, said: str, kind: str) -> None:
    found = risk.assess(said)
    assert found.level == EMERGENCY, found
    assert kind in {c.kind for c in found.cues if c.live}, found


@pytest.mark.parametrize(
    "said",
    [
        "这日子过不下去了",  # despair without a plan: ask
        "消防警铃一直在响，还闻到烟味",  # a sign of fire, not a fire seen
        "我外公午觉起来就出门了，手机都在屋里，现在天黑了还在下雨",  # an old man out after dark
        "这边情况不太好，能不能派个人过来",  # a plea without saying what
        "他把我手机抢了，不准我打电话",  # kept from calling anyone
        "能不能马上派个人过来",  # 能不能 asks, it does not deny; 过来 is no 过 of the past
        "在不在 赶紧回我一下 很急",  # urgent, nothing said of what
    ],
)
def test_a_sign_of_danger_asks_the_safety_question(risk: RiskLayer, said: str) -> None:
    assert risk.assess(said).level == SUSPECTED


def test_a_negated_threat_is_not_live(risk: RiskLayer) -> None:
    """The layer alone stays quiet (the parser may still ask, by similarity to messages about danger)."""
    found = risk.assess("我不会从阳台跳下去的，放心")
    assert found.level != EMERGENCY and not any(c.live for c in found.cues), found


@pytest.mark.parametrize(
    "said",
    [
        "猫从凉台上跳下去了",  # no person
        "我妈出去跳舞了，天黑才回来",  # comes back at dark, as every day
        "燃气管道老化了，想申请更换",  # a standing matter to fix
        "电视上说有个人从桥上跳下去了",  # media
        "万一煤气泄漏了怎么办",  # a hedge
        "没有着火，是邻居在烧烤",  # negated
        "楼道的灯坏了好几天了",
        # things named after a danger: a device, a story, a drill, a blocked car
        "我妈前年走丢过一回 想给她办个防走失的手环",
        "能不能给独居老人发那种一按就能呼救的手环",
        "刚看完一本小说 主人公最后跳楼了 哭了一晚上",
        "有没有那种培训 教老年人遇到火灾往哪里跑",
        "有人把车停在我家车库门口，打电话也不接，我车出不去",
        "楼上电钻钻了一上午 我脑壳都要爆炸了",
        # heating, a how-to question, a broadcast, a figure of speech, a wheelchair, a lift with nobody in it
        "冬天烧炭盆取暖会不会中毒",
        "怎么判断家里天然气是不是漏了",
        "听广播说雷雨天好多人触电",
        "三缺一，哪个来救个场",
        "想借个轮椅推他出去晒太阳",
        "电梯又停了，还好没关到人",
        "电梯停在两层中间不动了，里面没得人",
        "我老汉儿中风以后半边身子动不了，想给他办个残疾证",
        # described as things, not as danger now
        "昨晚上打雷打得好吓人",
        "电视突然没得声音了咋个办",
        "楼上的独居婆婆好几天没出门了，能不能去看看",
        # a feed, a school essay, a figure of speech, history
        "刷到个视频，一个老人被车撞倒了，好吓人",
        "刚在抖音看到有人被困电梯",
        "我女儿写作文，题目叫《一场大火》",
        "火锅太辣了，吃得我喉咙都冒烟了",
        "厨房乱得跟杀人现场一样",
        "十年前这栋楼燃气爆炸过",
        "帮我看下医保报销到哪一步了，我心梗那回花了好几万",
        "跑步跑得腿抽筋了",
        "你敢不来我就打你电话投诉",
        "请问煤气报警器多少钱一个",  # the device, not its alarm
        # the same words as this round's rules, about nothing dangerous
        "吃安眠药会不会有依赖",
        "我一个人扶他上厕所搞不动了",
        "刚才在群里喊救命是闹着玩的",
        "这娃儿迟早把我气出高血压",
        "我孙子给我转了个新闻，说外地发大水淹了好多房子",
        "屋后那个坡 一下雨就往下滑 万一垮了 咋办",
        "找了半个小时的钥匙，原来在兜里",
        "我手机没带，帮我查下进度",
        "医生叫我照顾好我妈",
        "这个SOS呼叫器怎么用",
        "我在看电视，电视里有个房子着火了",
        "他说马上来，结果一直没来",
        "听说电热毯容易起火，靠不靠谱",
        "楼上花盆摆在阳台边上，怕掉下来砸到人",
        "刚才有人想撬我家门，被我一吼就跑了，报个备",
        "我孙子在看恐怖片，里面一直在喊救命",
        "刚才群里的求救是娃儿乱按的，家里一切都好",
        "听说烧炭盆会中毒，真的假的",
        "娃儿在幼儿园门口等了半个钟头，我走不开，找个人帮忙接下",
        "办个社保排得我快晕倒了",
        "电暖器放卧室安不安全，怕中毒，还没用过",
        "前两天有人撬我家锁，没撬开，已经报过警了",
        "聊起以前，我们村发大水把房子都冲垮了",
        "谢谢你们一直惦记我这个孤老头",
        "快点派人来嘛，都等了一个星期了",
        "娃儿手被门夹了一下，冰敷了，现在又在玩了",
        "我家狗简直要我的命，又把鞋子咬烂了",
        "我爸看球输了说气得要跳楼，别当真哈",
        "栀子花开了，满屋子都是香的",
        "我养的鹦鹉飞走了，有没有人看到",
        "流浪猫被楼下的小妹儿领养了",
        "楼上晒衣服滴水，我的被子都遭打湿了",
        "那年发大水房子垮了好多，现在想起来都怕",
        "这个月交了暖气费，荷包大出血",
        "群里在转一个小孩走失的视频，是外地的",
        "能不能给独居老人装个报警器，摔倒了按一下就能叫人",
        "新闻说外省有山体滑坡，看得我心慌",
        "辅导作业辅导得我脑壳都炸了，救命啊",
        "我年轻时在工地遭过一回塌方，腰到现在都痛",
        "以前燃气漏过一回，头晕了两天",
        "食堂的红烧肉好吃得要命，救命，又胖了",
        "我家老头跳舞跟触电了一样，笑死个人",
        "打牌被他们杀得片甲不留，救命哦",
        "麻辣烫太辣了，舌头都要着火了",
        "在看警匪片子，坏人拿刀冲进屋那段吓死我了",
        "朋友圈看到外地有个小孩走失了，帮忙转发一下",
        "这个月物业费交得我心都在滴血",
        "楼上有人从窗户吊电线下来充电，看着怕出事",
        "你们办事太慢了，快点嘛",
        "水龙头坏了，哪个来帮我换个嘛",
        "玩密室逃脱被困在第二关，有没有攻略",
        "那个广告牌说不定哪天就掉下来砸到人",
        "刚才黑灯瞎火的，我还以为起火了，原来是停电",
        "气得我七窍生烟，三缺一，哪个来救救我",
        "给孙子讲绘本，小兔子被困在山洞里出不来",
        "锅烧糊了满屋子烟，还以为着火了，笑惨了",
        "楼下配电箱一直开着，娃娃在旁边耍，怕出事，能不能锁起来",
        "问一下，独居老人要是好几天没出门，你们会上门看吗",
    ],
)
def test_no_danger_is_no_alarm(risk: RiskLayer, said: str) -> None:
    found = risk.assess(said)
    assert found.level != EMERGENCY, found


@pytest.mark.parametrize(
    "said",
    [
        "刚才闻到煤气味，是阀门没拧紧，已经关好了，现在没味了",
        "孙子刚才摸插座被电了一下，现在好好的",
        "我爸在楼梯上摔了一跤，已经扶起来了，没伤到骨头",
        "我妈刚才摔倒了，救护车已经接走了，检查没大问题",
        "煤气味没了，阀门拧紧了，不用来了",
        "楼上漏水漏到我家电表箱了，现在已经断电了",
        "燃气公司来过了，接头已经拧紧",
        "电梯停了一会儿把我关在里面，来电就出来了，人好好的",
        "孙子把自己关在卫生间了，幸好邻居帮我开了门",
        "灶上的油着了一下，锅盖一盖就灭了，没事的",
        "闻到点煤气味，我把阀门关了，现在没得味道了",
        "不好意思刚才手滑发了个救命，我好好的",
        "后面那堵老墙倒了一截，好在没人在跟前，拉了警戒线",
    ],
)
def test_a_danger_told_as_over_is_at_most_asked_about(risk: RiskLayer, said: str) -> None:
    found = risk.assess(said)
    assert found.level != EMERGENCY and found.framing == "resolved", found


def test_a_past_danger_is_asked_about_not_alarmed(risk: RiskLayer) -> None:
    found = risk.assess("小时候我从阳台上跳下去过，摔断了腿")
    assert found.level != EMERGENCY, found


def test_a_red_flag_years_ago_is_no_alarm(parser) -> None:  # type: ignore[no-untyped-def]
    """The model's red flags read past markers too (前几年 … 爆炸 is history)."""
    assert parser.parse("前几年我们这片闹过一回天然气爆炸 到现在一闻到怪味道心里就发慌").risk != EMERGENCY


@pytest.mark.parametrize(
    "said",
    [
        "老人噎住了应该怎么做",  # maybe asked in the middle of it
        "孩子被电到了，能不能直接用手去拉",
        "着火了打119还是110",
        "要是他再打我咋办",  # about what might happen: still asked
    ],
)
def test_asking_what_to_do_is_asked_about_not_alarmed_nor_dropped(risk: RiskLayer, said: str) -> None:
    found = risk.assess(said)
    assert found.level == SUSPECTED and found.framing == "how_to", found


def test_an_urge_to_send_someone_is_no_sign_of_danger(risk: RiskLayer) -> None:
    assert risk.assess("麻烦快点派人来，水管漏了两天了").level is None


@pytest.mark.parametrize("said", ["他老是打我", "我老公经常打我", "我经常想跳楼", "我最近老是想不开"])
def test_violence_or_self_harm_said_as_a_habit_is_asked_about(risk: RiskLayer, said: str) -> None:
    """Not happening this minute, but someone at risk: the safety question, never nothing."""
    found = risk.assess(said)
    assert found.level == SUSPECTED and any(c.ongoing for c in found.cues), found


@pytest.mark.parametrize("said", ["以前他经常打我，现在离婚了", "他从来不打我", "楼上两口子老是吵架"])
def test_a_habit_in_the_past_denied_or_harmless_is_no_sign(risk: RiskLayer, said: str) -> None:
    found = risk.assess(said)
    assert found.level != EMERGENCY and not any(c.ongoing for c in found.cues), found


def test_a_habit_is_asked_about_with_its_words(parser) -> None:  # type: ignore[no-untyped-def]
    got = parser.parse("他老是打我")
    assert got.risk == "suspected" and "violence:打我" in got.risk_cues, got


@pytest.mark.parametrize(
    "said",
    [
        *(
            "我不行了",
            "我好难受",
            "他动不了了",
            "我起不来了",
            "不得了了",
            "遭了遭了",
            "要死人了",
            "咋个办咋个办",
        ),
        *("帮……帮我……", "有没有人，快点", "有人吗 有人吗", "求求你们", "sos", "帮我报警", "喂喂 快点 我妈她"),
    ],
)
def test_a_bare_cry_of_distress_is_asked_about(parser, said: str) -> None:  # type: ignore[no-untyped-def]
    """Short words of someone in trouble: the intent model reads them as a no, a goodbye or nothing at all."""
    assert parser.parse(said).risk is not None


@pytest.mark.parametrize(
    "said",
    [
        "这个办法不行了",
        "看到那个新闻我好难受",
        "有人跟我说社区有补贴",
        "我爸的钥匙不见了，屋里到处翻遍了",
        "完了完了，忘记交电费了",
        "这个SOS手环好不好用",
        "热得要死人了",
        "我今天早上起不来，闹钟没听到",
        # media, drills, figures and fires put out
        "我妈看短视频说电动车在家充电会爆炸，是不是真的",
        "问一下下午的消防演习，喊着火了的时候我们也要下楼吗",
        "发大水的时候我们一楼的要往哪里躲",
        "这个月的表格把我头都搞炸了",
        "中午电瓶车冒烟，保安用灭火器喷灭了",
    ],
)
def test_the_same_words_about_something_else_raise_no_alarm(parser, said: str) -> None:  # type: ignore[no-untyped-def]
    assert parser.parse(said).risk != EMERGENCY


@pytest.mark.parametrize(
    "said",
    [
        "视频里看到我妈倒在厨房地上不动了",  # a video call shows it live: not a story
        "监控里看到有人在撬我家门",
        "我孙子从昨天下午就没回家，电话也打不通",  # since yesterday, not yesterday's news
        "电梯门打不开，灯也灭了，里面喊了半天没人应",  # 灯灭了 is not a fire put out
        "安眠药攒了一瓶，今晚全吃了就清净了",
        "我爸刚才还好好的，突然就说不出话了",  # 还好好的 is not 还好 (over)
        "我女儿被人拉走了",
        "屋头好大的味道，头昏",
        "我孙子吃了半瓶药，是不是要紧",
        "楼上阳台的栏杆松了，一个娃娃趴在上面",
        "孙女十二岁，说去同学家，同学说她没来",
        "我觉得活着好累，今天就想结束了",
        "我听到屋里有声音，但是家里就我一个人",  # two weak signs together
        "我老汉八十多了，一早出去转，到现在人影都没有",
    ],
)
def test_live_danger_told_with_words_that_often_mean_otherwise(risk: RiskLayer, said: str) -> None:
    assert risk.assess(said).level == EMERGENCY


@pytest.mark.parametrize(
    "said",
    [
        "我老公打呼噜好响，吵得我睡不着，救命",
        "我看了个视频，讲老人摔倒了怎么扶",
        "那个小说写得吓死人，一家人都被困在山里",
        "斗地主又被他们杀惨了，救命",
        "救命 过个年长胖了六斤",
        "刚才联系不上我妈，吓一跳，现在打通了，不用去了",
        "有点头晕，应该是没睡好，睡一觉就好了",
    ],
)
def test_figures_and_stories_found_by_probing_are_no_alarm(risk: RiskLayer, said: str) -> None:
    assert risk.assess(said).level is None


def test_a_video_call_does_not_mute_a_red_flag(parser) -> None:  # type: ignore[no-untyped-def]
    """「视频」 alone is a call with a relative as often as a clip: only 短视频 / 的视频 / 个视频 are media."""
    assert parser.parse("我是在外地的女儿，刚视频她说胸口痛得厉害").risk == EMERGENCY
    assert parser.parse("我爸在群里转了个燃气罐爆炸的视频，问是不是我们小区").risk != EMERGENCY
